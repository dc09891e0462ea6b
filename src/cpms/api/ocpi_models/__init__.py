"""The OCPI 2.2.1 objects cpms sends as a CPO (Locations, Sessions, CDRs), as msgspec Structs whose
JSON is the specification's, field for field."""
