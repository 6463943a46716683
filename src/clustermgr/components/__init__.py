"""What each part of the cluster should look like (render) and how to get there (plan).

Pure code: renderers turn the inventory into desired files, planners turn
desired state plus facts into steps.  No I/O of their own.
"""
