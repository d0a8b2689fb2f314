// SPDX-License-Identifier: BSD-3-Clause
/* libmicrohttpd (Debian's libmicrohttpd12) runs the listening socket and
 * the connections in its own polling thread, with a limit on connections
 * and a timeout on each, so that scrapers, slow or hostile, cost a few
 * file descriptors and never the capture thread's time. The socket is
 * bound first and the thread started later, once privileges are dropped:
 * a thread keeps the capabilities it was started with. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "metrics_http.h"

#define MAX_CONNECTIONS 16
#define CONNECTION_TIMEOUT_S 10
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define NOT_FOUND "not found: tlswatch serves /metrics only\n"
#define GET_ONLY "GET only\n"

struct metrics_http {
	struct MHD_Daemon *d;
	int fd;			/* listening, until the daemon takes it */
	char where[64];
	pthread_mutex_t lock;
	char *text;
	size_t len;
};

int metrics_http_parse(const char *where, struct sockaddr_storage *ss,
		       char *err, size_t errlen)
{
	char host[64] = "127.0.0.1";
	const char *port = where, *colon = strrchr(where, ':');
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	unsigned long p;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (colon) {
		size_t n = colon - where;

		if (n >= 2 && where[0] == '[' && where[n - 1] == ']') {
			where++;
			n -= 2;
		}
		if (n == 0 || n >= sizeof(host)) {
			snprintf(err, errlen, "--metrics: bad address in '%s'", where);
			return -1;
		}
		memcpy(host, where, n);
		host[n] = '\0';
		port = colon + 1;
	}
	errno = 0;
	p = strtoul(port, &end, 10);
	if (!*port || *end || errno || p == 0 || p > 65535) {
		snprintf(err, errlen, "--metrics: bad port in '%s'", port);
		return -1;
	}
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(p);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(p);
	} else {
		snprintf(err, errlen, "--metrics: '%s' is not an IP address", host);
		return -1;
	}
	return 0;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status,
			     const char *type, const char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body,
					    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_len, void **state)
{
	struct metrics_http *h = cls;
	enum MHD_Result ret;

	(void)version;
	(void)upload;
	(void)state;
	if (*upload_len)
		return MHD_NO;	/* no bodies: drop the connection */
	if (strcmp(url, "/metrics") != 0)
		return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", NOT_FOUND,
			     strlen(NOT_FOUND));
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
			     GET_ONLY, strlen(GET_ONLY));
	/* A copy of the published text, under the lock: microseconds. */
	pthread_mutex_lock(&h->lock);
	ret = reply(c, MHD_HTTP_OK, CONTENT_TYPE, h->text ? h->text : "",
		    h->text ? h->len : 0);
	pthread_mutex_unlock(&h->lock);
	return ret;
}

struct metrics_http *metrics_http_open(const char *where, char *err,
				       size_t errlen)
{
	struct sockaddr_storage ss;
	struct metrics_http *h;
	socklen_t sl;
	int one = 1;

	if (metrics_http_parse(where, &ss, err, errlen))
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "--metrics: out of memory");
		return NULL;
	}
	h->fd = -1;
	pthread_mutex_init(&h->lock, NULL);
	sl = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					sizeof(struct sockaddr_in);
	h->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		       0);
	if (h->fd < 0 ||
	    setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(h->fd, (struct sockaddr *)&ss, sl) || listen(h->fd, 64)) {
		snprintf(err, errlen, "--metrics %s: cannot listen there: %s",
			 where, strerror(errno));
		metrics_http_stop(h);
		return NULL;
	}
	snprintf(h->where, sizeof(h->where), "%s", where);
	return h;
}

int metrics_http_start(struct metrics_http *h, char *err, size_t errlen)
{
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
				0, NULL, NULL, handle, h,
				MHD_OPTION_LISTEN_SOCKET, h->fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned int)CONNECTION_TIMEOUT_S,
				MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errlen, "--metrics %s: cannot start serving",
			 h->where);
		return -1;
	}
	h->fd = -1;	/* the daemon's now, closed when it stops */
	return 0;
}

void metrics_http_publish(struct metrics_http *h, char *text, size_t len)
{
	char *old;

	pthread_mutex_lock(&h->lock);
	old = h->text;
	h->text = text;
	h->len = len;
	pthread_mutex_unlock(&h->lock);
	free(old);
}

void metrics_http_stop(struct metrics_http *h)
{
	if (!h)
		return;
	if (h->d)
		MHD_stop_daemon(h->d);
	if (h->fd >= 0)
		close(h->fd);
	pthread_mutex_destroy(&h->lock);
	free(h->text);
	free(h);
}
