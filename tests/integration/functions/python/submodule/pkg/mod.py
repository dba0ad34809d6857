"""A handler in a subfolder with no __init__.py, addressed as pkg/mod.fn."""


def fn(event, context):
    return {"module": __name__, "sum": sum(event["numbers"])}
