"""mutualaid: one directory of mutual-aid meetings across fellowships."""
