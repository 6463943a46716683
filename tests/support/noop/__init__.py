"""A component that changes nothing: the smallest thing that fills every part of the contract."""
