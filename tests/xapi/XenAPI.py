"""Minimal test stand-in for XenServer's XenAPI module.

The stand-in XenAPIPlugin calls xapi_local() and sets the session
reference on the result, as the real XenAPIPlugin does
(xapi-project/xen-api scripts/examples/python/XenAPIPlugin.py).  Nothing
here talks to a xapi: a plugin that makes XenAPI calls through the session
gets a clear error instead.  Runs on Python 2.7 and 3.
"""


class Failure(Exception):
    def __init__(self, details):
        Exception.__init__(self, details)
        self.details = details


class _NoXapi(object):
    """What xapi_local() returns: a session object without a server."""

    def __init__(self):
        self._session = None

    def __getattr__(self, name):
        raise Failure(["VIFWALL_TEST_NO_XAPI",
                       "the test stand-in XenAPI has no xapi to call (%s)" % name])


def xapi_local():
    return _NoXapi()
