/* Any helpers: see any.h. */
#include <string.h>

#include "runtime/util.h"
#include "shim/any.h"

bool shim_any_is(const Google__Protobuf__Any *any, const char *full_name)
{
	const char *url, *slash;

	if (!any || !any->type_url)
		return false;
	url = any->type_url;
	slash = strrchr(url, '/');
	if (slash)
		url = slash + 1;
	return strcmp(url, full_name) == 0;
}

Google__Protobuf__Any *shim_any_pack(const char *full_name, const ProtobufCMessage *msg)
{
	Google__Protobuf__Any *any = xmalloc(sizeof(*any));
	size_t n = protobuf_c_message_get_packed_size(msg);

	google__protobuf__any__init(any);
	any->type_url = xstrdup(full_name);
	any->value.data = xmalloc(n);
	any->value.len = protobuf_c_message_pack(msg, any->value.data);
	return any;
}

void shim_any_free(Google__Protobuf__Any *any)
{
	if (!any)
		return;
	free(any->type_url);
	free(any->value.data);
	free(any);
}
