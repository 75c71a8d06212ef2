"""Scalar functions and operators, one family per module, all in one registry.

Built-ins are registered through the same ``FunctionRegistry.register`` that
users call as ``conn.register_function(...)``, so a UDF is a first-class citizen.
"""
