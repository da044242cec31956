#include "ttrpc/status.h"

#include <stddef.h>

const char *ttrpc_code_name(int code)
{
	static const char *const names[] = {
	    [TTRPC_OK] = "OK",
	    [TTRPC_CANCELLED] = "Canceled",
	    [TTRPC_UNKNOWN] = "Unknown",
	    [TTRPC_INVALID_ARGUMENT] = "InvalidArgument",
	    [TTRPC_DEADLINE_EXCEEDED] = "DeadlineExceeded",
	    [TTRPC_NOT_FOUND] = "NotFound",
	    [TTRPC_ALREADY_EXISTS] = "AlreadyExists",
	    [TTRPC_PERMISSION_DENIED] = "PermissionDenied",
	    [TTRPC_RESOURCE_EXHAUSTED] = "ResourceExhausted",
	    [TTRPC_FAILED_PRECONDITION] = "FailedPrecondition",
	    [TTRPC_ABORTED] = "Aborted",
	    [TTRPC_OUT_OF_RANGE] = "OutOfRange",
	    [TTRPC_UNIMPLEMENTED] = "Unimplemented",
	    [TTRPC_INTERNAL] = "Internal",
	    [TTRPC_UNAVAILABLE] = "Unavailable",
	    [TTRPC_DATA_LOSS] = "DataLoss",
	    [TTRPC_UNAUTHENTICATED] = "Unauthenticated",
	};
	if (code < 0 || (size_t)code >= sizeof(names) / sizeof(names[0]))
		return "Unknown";
	return names[code];
}
