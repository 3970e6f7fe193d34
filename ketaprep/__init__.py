"""ketaprep: personalised pre- and post-treatment instructions for ketamine clinics."""

__version__ = "0.1.0"
