"""The policy knowledge base: the notices as data, and the code that searches and reasons over them.

Nothing here touches a database or imports from `bot`, `handlers` or `storage`.
"""
