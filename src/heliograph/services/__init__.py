"""One function per operationId. Each takes the connection and never commits: the caller does."""
