"""The use cases, one module per spec tag: rules and orchestration over store/ and events/, no SQL.

A function per operationId, keyword-only after its connection; none commits (the caller owns the
transaction). PostMessage and UploadAttachment take the Database instead: they own theirs.
"""
