"""The application layer: reading files and orchestrating the packages for the command line and the live page."""
