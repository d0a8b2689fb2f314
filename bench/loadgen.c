// SPDX-License-Identifier: BSD-3-Clause
/* Load for the failure-storm benchmark (storm.sh): connections at a set
 * rate to a port on loopback, each from the next of many 127.x.y.z
 * addresses, each sending a real ClientHello (from the golden captures),
 * waiting for the server's answer and closing with RST (SO_LINGER 0), so
 * that no TIME_WAIT piles up however long it runs. Non-blocking, one
 * epoll set per thread. Prints what it attempted and what completed. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "captured.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

static const char usage[] =
"usage: loadgen -r RATE -d SECS [-t THREADS] [-c MAXOPEN] [-w WAIT_MS] PORT\n"
"  RATE connections per second (0: as fast as it can) for SECS seconds to\n"
"  127.0.0.1:PORT, from 127.(10+thread).x.y; each sends a TLS 1.2\n"
"  ClientHello, reads the answer and resets. Prints one line of key=value:\n"
"  attempted, completed (answered with an alert record), refused (connect\n"
"  or send failed), noalert (closed without one), timedout (no answer\n"
"  WAIT_MS after the end), skipped (not started: MAXOPEN open), rate\n"
"  (completed per second of the run).\n"
"  -t THREADS  default 1; -c MAXOPEN per thread, default 20000;\n"
"  -w WAIT_MS  default 2000\n";

enum { FREE, CONNECTING, SENT };

struct counts {
	uint64_t attempted, completed, refused, noalert, timedout, skipped;
};

struct worker {
	pthread_t t;
	int id;
	double rate;
	struct counts c;
};

static int port, secs, maxopen = 20000, wait_ms = 2000;
static uint8_t *state;		/* by fd, shared: fds are unique */
static int nstate;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One connection from src, registered for its connect's completion. */
static int start(int ep, uint32_t src, struct counts *c)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(src) };
	struct sockaddr_in da = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(0x7f000001) };
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN | EPOLLET };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	c->attempted++;
	if (fd < 0 || fd >= nstate) {
		if (fd >= 0)
			close(fd);
		c->refused++;
		return 0;
	}
	/* The port is chosen at connect, per 4-tuple: cheaper than bind's
	 * search, and never short of ports. */
	setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    (connect(fd, (struct sockaddr *)&da, sizeof(da)) &&
	     errno != EINPROGRESS)) {
		close(fd);
		c->refused++;
		return 0;
	}
	ev.data.fd = fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
		close(fd);
		c->refused++;
		return 0;
	}
	state[fd] = CONNECTING;
	return 1;
}

static void finish(int fd)
{
	state[fd] = FREE;
	close(fd);		/* SO_LINGER 0: RST */
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct counts *c = &w->c;
	struct epoll_event evs[512];
	int ep = epoll_create1(0), open = 0;
	uint32_t next = 0;
	double t0 = now_s(), end = t0 + secs, drain = end + wait_ms / 1e3;

	if (ep < 0) {
		perror("loadgen: epoll");
		exit(1);
	}
	for (;;) {
		double t = now_s();
		int n, timeout = 1;

		if (t >= drain || (t >= end && open == 0))
			break;
		if (t < end) {
			uint64_t due = w->rate > 0 ?
				(uint64_t)((t - t0) * w->rate) + 1 :
				c->attempted + c->skipped + 64;
			/* A burst is bounded so replies are read between. */
			for (int k = 0; k < 256 &&
			     c->attempted + c->skipped < due; k++) {
				if (open >= maxopen) {
					if (w->rate <= 0)
						break;
					c->skipped++;
					continue;
				}
				/* 127.(10+id).hi.lo, lo 1..254. */
				uint32_t src = (127u << 24) |
					((10u + w->id) << 16) |
					((next / 254) % 256) << 8 |
					(next % 254 + 1);

				next++;
				open += start(ep, src, c);
			}
			if ((w->rate <= 0 && open < maxopen) ||
			    (w->rate > 0 && c->attempted + c->skipped < due))
				timeout = 0;
		}
		n = epoll_wait(ep, evs, 512, timeout);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			uint8_t buf[512];
			ssize_t r;

			/* Edge-triggered on both from the start: one
			 * epoll_ctl per connection. */
			if (state[fd] == CONNECTING) {
				if ((evs[i].events & (EPOLLERR | EPOLLHUP)) ||
				    send(fd, hello12, sizeof(hello12),
					 MSG_NOSIGNAL) != sizeof(hello12)) {
					c->refused++;
					finish(fd);
					open--;
					continue;
				}
				state[fd] = SENT;
				if (!(evs[i].events & EPOLLIN))
					continue;
			}
			r = recv(fd, buf, sizeof(buf), 0);
			if (r < 0 && errno == EAGAIN)
				continue;
			if (r >= 7 && buf[0] == 0x15)
				c->completed++;
			else
				c->noalert++;
			finish(fd);
			open--;
		}
	}
	c->timedout = open;
	return NULL;
}

int main(int argc, char **argv)
{
	struct rlimit rl = { 1 << 20, 1 << 20 };
	struct counts sum = {};
	struct worker *w;
	double rate = -1, t0, took;
	int threads = 1, c;

	while ((c = getopt(argc, argv, "r:d:t:c:w:h")) != -1) {
		switch (c) {
		case 'r': rate = atof(optarg); break;
		case 'd': secs = atoi(optarg); break;
		case 't': threads = atoi(optarg); break;
		case 'c': maxopen = atoi(optarg); break;
		case 'w': wait_ms = atoi(optarg); break;
		default:
			fputs(usage, c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind + 1 != argc || (port = atoi(argv[optind])) <= 0 ||
	    port > 65535 || rate < 0 || secs <= 0 || threads < 1 ||
	    threads > 200 || maxopen < 1) {
		fputs(usage, stderr);
		return 2;
	}
	if (setrlimit(RLIMIT_NOFILE, &rl))
		getrlimit(RLIMIT_NOFILE, &rl);
	nstate = rl.rlim_cur;
	state = calloc(nstate, 1);
	w = calloc(threads, sizeof(*w));
	if (!state || !w) {
		fprintf(stderr, "loadgen: out of memory\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	t0 = now_s();
	for (int i = 0; i < threads; i++) {
		w[i].id = i;
		w[i].rate = rate / threads;
		if (pthread_create(&w[i].t, NULL, run, &w[i])) {
			fprintf(stderr, "loadgen: cannot start a thread\n");
			return 1;
		}
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(w[i].t, NULL);
		sum.attempted += w[i].c.attempted;
		sum.completed += w[i].c.completed;
		sum.refused += w[i].c.refused;
		sum.noalert += w[i].c.noalert;
		sum.timedout += w[i].c.timedout;
		sum.skipped += w[i].c.skipped;
	}
	took = now_s() - t0;
	printf("offered=%.0f seconds=%d attempted=%llu completed=%llu refused=%llu noalert=%llu timedout=%llu skipped=%llu rate=%.0f took=%.2f\n",
	       rate, secs, (unsigned long long)sum.attempted,
	       (unsigned long long)sum.completed,
	       (unsigned long long)sum.refused,
	       (unsigned long long)sum.noalert,
	       (unsigned long long)sum.timedout,
	       (unsigned long long)sum.skipped, sum.completed / (double)secs,
	       took);
	return 0;
}
