// SPDX-License-Identifier: BSD-3-Clause
/* SYN flood for tests/live-hostile.sh: COUNT bare SYNs to DST:PORT over
 * SECS seconds, from source addresses spread over 127.B.0.0/16 and
 * random ports, through a raw socket (root). No state is kept: the
 * replies (SYN-ACK or cookies) find no socket and get a reset. Prints
 * the number sent. Usage: synflood DST PORT COUNT SECS B */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint16_t csum(const void *p, size_t n, uint32_t sum)
{
	const uint8_t *b = p;

	for (; n > 1; n -= 2, b += 2)
		sum += (uint32_t)b[0] << 8 | b[1];
	if (n)
		sum += (uint32_t)b[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

int main(int argc, char **argv)
{
	struct {
		struct iphdr ip;
		struct tcphdr tcp;
	} pkt;
	struct {
		uint32_t src, dst;
		uint8_t zero, proto;
		uint16_t len;
		struct tcphdr tcp;
	} ph;
	struct sockaddr_in to = { .sin_family = AF_INET };
	unsigned long count, sent = 0;
	double secs;
	unsigned b;
	uint32_t rnd = 0x12345678;
	int fd, one = 1;

	if (argc != 6) {
		fprintf(stderr, "usage: synflood DST PORT COUNT SECS B\n");
		return 2;
	}
	if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
		fprintf(stderr, "synflood: bad address %s\n", argv[1]);
		return 2;
	}
	to.sin_port = htons(atoi(argv[2]));
	count = strtoul(argv[3], NULL, 10);
	secs = atof(argv[4]);
	b = atoi(argv[5]) & 0xff;
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one))) {
		perror("synflood: raw socket");
		return 1;
	}
	for (unsigned long i = 0; i < count; i++) {
		rnd = rnd * 1103515245 + 12345;
		memset(&pkt, 0, sizeof(pkt));
		pkt.ip.version = 4;
		pkt.ip.ihl = 5;
		pkt.ip.ttl = 64;
		pkt.ip.protocol = IPPROTO_TCP;
		pkt.ip.tot_len = htons(sizeof(pkt));
		pkt.ip.id = htons(i & 0xffff);
		pkt.ip.saddr = htonl(127u << 24 | b << 16 | ((i >> 8) & 0xff) << 8 |
				     ((i & 0xff) ? (i & 0xff) : 1));
		pkt.ip.daddr = to.sin_addr.s_addr;
		pkt.ip.check = csum(&pkt.ip, sizeof(pkt.ip), 0);
		pkt.tcp.source = htons(1024 + (rnd >> 16) % 60000);
		pkt.tcp.dest = to.sin_port;
		pkt.tcp.seq = htonl(rnd);
		pkt.tcp.doff = 5;
		pkt.tcp.syn = 1;
		pkt.tcp.window = htons(64240);
		ph.src = pkt.ip.saddr;
		ph.dst = pkt.ip.daddr;
		ph.zero = 0;
		ph.proto = IPPROTO_TCP;
		ph.len = htons(sizeof(pkt.tcp));
		ph.tcp = pkt.tcp;
		pkt.tcp.check = csum(&ph, sizeof(ph), 0);
		if (sendto(fd, &pkt, sizeof(pkt), 0, (struct sockaddr *)&to,
			   sizeof(to)) == sizeof(pkt))
			sent++;
		/* Spread over SECS: a pause every 1000 packets. */
		if (secs > 0 && i % 1000 == 999)
			usleep((useconds_t)(secs * 1e6 / (count / 1000.0)));
	}
	printf("%lu\n", sent);
	return 0;
}
