// SPDX-License-Identifier: BSD-3-Clause
/* The cheapest TLS server that fails: it reads whatever the client sends
 * first (a ClientHello), answers with one fatal alert record and closes.
 * For the failure-storm benchmark (storm.sh), where tlswatch, not the
 * server, should be the bottleneck. Threads share the port through
 * SO_REUSEPORT, each with its own listener and epoll set. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char usage[] =
"usage: alertserver [-t THREADS] [-a ALERT] [-d] PORT\n"
"  answers every connection's first bytes with a fatal TLS alert on\n"
"  127.0.0.0/8 PORT, then closes\n"
"  -t THREADS  listener threads, SO_REUSEPORT (default 1)\n"
"  -a ALERT    alert code (default 40, handshake_failure; 70 is\n"
"              protocol_version)\n"
"  -d          TCP_DEFER_ACCEPT: accept only once the client has spoken\n";

static int port, defer;
static uint8_t alert[7] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40 };

static int listener(void)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_ANY),
	};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
	    (defer && setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one,
				 sizeof(one))) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 65535)) {
		fprintf(stderr, "alertserver: port %d: %s\n", port,
			strerror(errno));
		exit(1);
	}
	return fd;
}

/* The client's bytes are read (so that close sends FIN, not RST), the
 * alert written, and the socket closed. 0 when the connection is done. */
static int answer(int fd)
{
	char buf[4096];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 1;
	/* A failed send: the client went away, nothing to tell. */
	if (n > 0)
		(void)send(fd, alert, sizeof(alert), MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
	return 0;
}

static void *serve(void *arg)
{
	struct epoll_event evs[256], ev = { .events = EPOLLIN };
	int lfd = listener(), ep = epoll_create1(0);

	(void)arg;
	ev.data.fd = lfd;
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev)) {
		perror("alertserver: epoll");
		exit(1);
	}
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd != lfd) {
				answer(fd);	/* close() leaves the set */
				continue;
			}
			for (;;) {
				int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

				if (c < 0)
					break;
				/* Deferred accept: the hello is usually
				 * there already. */
				if (defer && !answer(c))
					continue;
				ev.events = EPOLLIN;
				ev.data.fd = c;
				if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev))
					close(c);
			}
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = 1, c;

	while ((c = getopt(argc, argv, "t:a:dh")) != -1) {
		switch (c) {
		case 't':
			threads = atoi(optarg);
			break;
		case 'a':
			alert[6] = atoi(optarg);
			break;
		case 'd':
			defer = 1;
			break;
		default:
			fputs(usage, c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind + 1 != argc || (port = atoi(argv[optind])) <= 0 ||
	    port > 65535 || threads < 1 || threads > 64) {
		fputs(usage, stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i < threads; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, serve, NULL)) {
			fprintf(stderr, "alertserver: cannot start a thread\n");
			return 1;
		}
	}
	serve(NULL);
	return 0;
}
