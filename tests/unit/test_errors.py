"""Error codes map to the classes users catch."""

import pickle

import pytest

from pulumi_opensearch_fn.api import errors as e


@pytest.mark.parametrize(
    ("code", "status", "cls"),
    [
        ("Instance.NotExist", 404, e.InstanceNotFoundError),
        ("Task.NotExist", 404, e.TaskNotFoundError),
        ("App.NotFound", 404, e.AppGroupNotFoundError),
        ("SignatureDoesNotMatch", 400, e.AuthenticationError),
        ("IncompleteSignature", 400, e.AuthenticationError),
        ("InvalidAccessKeyId.NotFound", 404, e.AuthenticationError),
        ("InvalidSecurityToken.Expired", 400, e.AuthenticationError),
        ("InvalidTimeStamp.Expired", 400, e.AuthenticationError),
        ("SignatureNonceUsed", 400, e.AuthenticationError),
        ("Forbidden.RAM", 403, e.PermissionDeniedError),
        ("Throttling.User", 400, e.ThrottledError),
        ("Throttling", 429, e.ThrottledError),
        ("", 429, e.ThrottledError),
        ("InternalError", 500, e.ServerError),
        ("ServiceUnavailable", 503, e.ServerError),
        ("InvalidParameter", 400, e.BadRequestError),
        ("", 404, e.NotFoundError),
    ],
)
def test_mapping(code, status, cls):
    assert e.error_class(code, status) is cls


def test_errors_carry_their_details_and_pickle():
    err = e.TaskNotFoundError("no task", code="Task.NotExist", request_id="r1", http_status=404)
    assert str(err) == "no task (code Task.NotExist, HTTP 404, request id r1)"
    again = pickle.loads(pickle.dumps(err))
    assert isinstance(again, e.TaskNotFoundError)
    assert again.request_id == "r1"
    assert isinstance(err, e.NotFoundError)
    assert isinstance(err, e.OpenSearchFnError)


def test_every_message_is_one_line():
    # The API quotes its multi-line string to sign in signature errors.
    err = e.AuthenticationError(
        "GetFunctionInstance: signature mismatch. server string to sign is:ACS3-HMAC-SHA256\n"
        "  f02ddc95\r\n",
        code="SignatureDoesNotMatch",
    )
    assert str(err) == (
        "GetFunctionInstance: signature mismatch. server string to sign is:ACS3-HMAC-SHA256 "
        "f02ddc95 (code SignatureDoesNotMatch)"
    )
    assert "\n" not in str(err.about("FunctionInstance my_app/ctr/ctr_test"))
