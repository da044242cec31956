#include "ttrpc/status.h"

#include <stddef.h>

const char *ttrpc_code_name(int code)
{
	static const char *const names[] = {
		"OK",		"Canceled",	    "Unknown",		 "InvalidArgument",
		"DeadlineExceeded", "NotFound",	    "AlreadyExists",	 "PermissionDenied",
		"ResourceExhausted", "FailedPrecondition", "Aborted",	 "OutOfRange",
		"Unimplemented",    "Internal",	    "Unavailable",	 "DataLoss",
		"Unauthenticated",
	};
	if (code < 0 || (size_t)code >= sizeof(names) / sizeof(names[0]))
		return "Unknown";
	return names[code];
}
