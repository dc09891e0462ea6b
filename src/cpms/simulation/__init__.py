"""Simulated chargers for demos and load tests: real OCPP 1.6 or 2.0.1 peers built on the `ocpp`
package's ChargePoint, and the `cpms simulate` command that commissions them through the API.

Every CALL is counted when its CALLRESULT arrives, so the figures printed are messages the
server acknowledged (after storing their events durably).
"""

from cpms.simulation.run import OCPP_VERSIONS, simulate
from cpms.simulation.stats import Stats

__all__ = ["OCPP_VERSIONS", "Stats", "simulate"]
