"""The application: configuration, command line, server and channels."""
