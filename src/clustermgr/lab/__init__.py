"""The lab: a cluster's servers on one machine, with faults on demand."""
