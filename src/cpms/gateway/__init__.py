"""The OCPP-J gateway: websocket server and one handler class per OCPP version, translation only."""
