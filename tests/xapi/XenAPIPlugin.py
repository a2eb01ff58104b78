"""Test stand-in for XenServer's XenAPIPlugin module (plugins import it).

Written for vifwall's tests from the contract of the real module
(xapi-project/xen-api, scripts/examples/python/XenAPIPlugin.py), which
xapi's plugin runner (ocaml/xapi/xapi_plugins.ml) relies on:

* xapi runs /etc/xapi.d/plugins/NAME with exactly one argument, an XML-RPC
  methodCall whose method name is the plugin function and whose params are
  (session reference, {argument: string});
* dispatch({"fn": callable}) decodes it, calls callable(session, args) and
  prints ONE XML-RPC methodResponse on stdout: a struct
  {"Status": "Success", "Value": result} when the callable returns, or
  {"Status": "Failure", "ErrorDescription": [code, param, ...]}:
  - Failure(code, params) raised by the callable gives [code] + params;
  - any other exception gives ["XENAPI_PLUGIN_FAILURE", fn, class name,
    str(exception)];
  - a function not in the table gives ["UNKNOWN_XENAPI_PLUGIN_FUNCTION", fn];
* SystemExit goes through (the plugin exits with its status);
* the session handed to the callable is XenAPI.xapi_local() with its
  _session set to the caller's session reference.

Runs on Python 2.7 and 3 (the plugin is tested on both).
"""

from __future__ import print_function

import sys

import XenAPI

try:
    import xmlrpclib as _xmlrpc  # Python 2
except ImportError:
    import xmlrpc.client as _xmlrpc  # Python 3


class Failure(Exception):
    """An error for the caller: code and string parameters."""

    def __init__(self, code, params):
        Exception.__init__(self, code, params)
        self.params = [code] + list(params)

    def __str__(self):
        return str(self.params)


def _response(struct):
    return _xmlrpc.dumps((struct,), methodresponse=True)


def success_message(result):
    return _response({"Status": "Success", "Value": result})


def failure_message(description):
    return _response({"Status": "Failure", "ErrorDescription": description})


def dispatch(fn_table):
    if len(sys.argv) != 2:
        raise Exception("Incorrect number of commandline arguments")
    params, method = _xmlrpc.loads(sys.argv[1])
    session_ref, args = params[0], params[1]
    if method not in fn_table:
        print(failure_message(["UNKNOWN_XENAPI_PLUGIN_FUNCTION", method]))
        return
    session = XenAPI.xapi_local()
    session._session = session_ref
    try:
        result = fn_table[method](session, args)
    except SystemExit:
        raise
    except Failure as failure:
        print(failure_message(failure.params))
    except Exception as exc:  # noqa: BLE001 -- every other error, as the real module does
        print(failure_message(["XENAPI_PLUGIN_FAILURE", method, exc.__class__.__name__, str(exc)]))
    else:
        print(success_message(result))
