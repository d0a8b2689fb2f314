// SPDX-License-Identifier: BSD-3-Clause
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "fingerprint.h"
#include "report.h"

/* IPv4 by hand: glibc's inet_ntop formats it with sprintf, a tenth of the
 * time of --json. Same text: decimal, no leading zeros. */
static void ipv4_str(const uint8_t *a, char *p)
{
	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];

		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
}

const char *endpoint_ip(const struct endpoint *e, char *buf, size_t len)
{
	if (e->family != AF_INET6 && len >= INET_ADDRSTRLEN) {
		ipv4_str(e->addr, buf);
		return buf;
	}
	if (!inet_ntop(e->family == AF_INET6 ? AF_INET6 : AF_INET, e->addr,
		       buf, len))
		snprintf(buf, len, "?");
	return buf;
}

/* n decimal digits of v at p, zero-padded. */
static char *put_dec(char *p, unsigned v, int n)
{
	for (int i = n - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + n;
}

/* By hand rather than snprintf: it runs once per event, and formatting
 * was a tenth of --json's time. Years outside 0-9999 keep snprintf. */
const char *format_time(uint64_t ts_us, char *buf, size_t len)
{
	time_t sec = ts_us / 1000000;
	struct tm tm;
	char *p = buf;

	gmtime_r(&sec, &tm);
	if (len < 28 || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
		snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (unsigned)(ts_us % 1000000));
		return buf;
	}
	p = put_dec(p, (unsigned)(tm.tm_year + 1900), 4);
	*p++ = '-';
	p = put_dec(p, (unsigned)tm.tm_mon + 1, 2);
	*p++ = '-';
	p = put_dec(p, (unsigned)tm.tm_mday, 2);
	*p++ = 'T';
	p = put_dec(p, (unsigned)tm.tm_hour, 2);
	*p++ = ':';
	p = put_dec(p, (unsigned)tm.tm_min, 2);
	*p++ = ':';
	p = put_dec(p, (unsigned)tm.tm_sec, 2);
	*p++ = '.';
	p = put_dec(p, (unsigned)(ts_us % 1000000), 6);
	*p++ = 'Z';
	*p = '\0';
	return buf;
}

/* "0x" and at least digits hex digits of v, as "0x%04x" would print
 * them; b holds 11 bytes. */
static const char *hex_code(char *b, uint32_t v, int digits)
{
	static const char hex[] = "0123456789abcdef";

	while (digits < 8 && v >> (4 * digits))
		digits++;
	b[0] = '0';
	b[1] = 'x';
	for (int i = digits - 1; i >= 0; i--, v >>= 4)
		b[2 + i] = hex[v & 15];
	b[2 + digits] = '\0';
	return b;
}

bool report_by_default(const struct session *s)
{
	return s->outcome == OUTCOME_FAILED || s->outcome == OUTCOME_UNKNOWN ||
	       s->outcome == OUTCOME_INCOMPLETE;
}

static void endpoint_json(struct json *j, const char *k,
			  const struct endpoint *e)
{
	char ip[64];

	json_object_begin(j, k);
	json_string(j, "ip", endpoint_ip(e, ip, sizeof(ip)));
	json_uint(j, "port", e->port);
	json_object_end(j);
}

static void version_json(struct json *j, const char *k, uint16_t v)
{
	char b[8];

	json_string(j, k, tls_version_str(v, b));
}

static void alpn_json(struct json *j, const struct tls_alpn_list *a)
{
	json_array_begin(j, "alpn");
	for (int i = 0; i < a->n; i++)
		json_bytes(j, NULL, a->name[i], a->len[i]);
	json_array_end(j);
}

static void client_hello_json(struct json *j, const struct tls_client_hello *ch,
			      const char *ja4_hash)
{
	char b[12];

	json_object_begin(j, "client_hello");
	version_json(j, "version", ch->version);
	version_json(j, "legacy_version", ch->legacy_version);
	version_json(j, "record_version",
		     ch->sslv2_format ? TLS_V_SSL2 : ch->record_version);
	json_array_begin(j, "supported_versions");
	for (int i = 0; i < ch->n_versions; i++)
		version_json(j, NULL, ch->versions[i]);
	json_array_end(j);
	json_array_begin(j, "ciphers");
	for (int i = 0; i < ch->n_ciphers; i++) {
		json_string(j, NULL, hex_code(b, ch->ciphers[i],
					      ch->cipher_width == 3 ? 6 : 4));
	}
	json_array_end(j);
	if (ch->has_sni)
		json_bytes(j, "sni", ch->sni, ch->sni_len);
	else
		json_null(j, "sni");
	alpn_json(j, &ch->alpn);
	json_bool(j, "fallback_scsv", ch->fallback_scsv);
	{
		char h3[JA3_HASH_LEN];

		if (ja3(ch, NULL, h3))
			json_string(j, "ja3", h3);
		else
			json_null(j, "ja3");
	}
	if (ja4_hash)
		json_string(j, "ja4", ja4_hash);
	else
		json_null(j, "ja4");
	json_object_end(j);
}

static void server_hello_json(struct json *j, const struct session *s)
{
	char b[12];

	json_object_begin(j, "server_hello");
	version_json(j, "version", s->sh.version);
	json_string(j, "cipher", hex_code(b, s->sh.cipher, 4));
	if (s->sh.has_alpn)
		alpn_json(j, &s->sh.alpn);
	if (s->hrr)
		json_bool(j, "hello_retry", true);
	json_object_end(j);
}

static void alert_json(struct json *j, const struct session_alert *a)
{
	json_object_begin(j, "alert");
	json_string(j, "from", a->from == SIDE_CLIENT ? "client" : "server");
	if (a->encrypted) {
		json_null(j, "level");
		json_null(j, "code");
		json_null(j, "name");
	} else {
		json_string(j, "level", alert_level_name(a->level));
		json_uint(j, "code", a->code);
		json_string(j, "name", tls_alert_name(a->code));
	}
	json_bool(j, "encrypted", a->encrypted);
	json_object_end(j);
}

/* The connection ended during the handshake: who closed first, and how. */
static bool closed_in_handshake(const struct session *s)
{
	return s->closing && s->outcome != OUTCOME_ESTABLISHED;
}

static void diagnosis_json(struct json *j, const struct diagnosis *d)
{
	json_object_begin(j, "diagnosis");
	json_string(j, "code", diag_code_name(d->code));
	if (d->harmless == HARM_UNKNOWN)
		json_null(j, "harmless");
	else
		json_bool(j, "harmless", d->harmless == HARM_YES);
	json_string(j, "text", d->text);
	json_object_end(j);
}

/* From the client's first byte to the server's last handshake flight,
 * and to the client's Finished (TLS 1.3: its flight, inferred). */
static void latency_json(struct json *j, const struct session *s)
{
	if (!s->client_first_ts || (!s->server_flight_ts && !s->client_finished_ts))
		return;
	json_object_begin(j, "latency_ms");
	if (s->server_flight_ts >= s->client_first_ts && s->server_flight_ts)
		json_fixed(j, "server_flight",
			   s->server_flight_ts - s->client_first_ts, 3);
	else
		json_null(j, "server_flight");
	if (s->client_finished_ts >= s->client_first_ts && s->client_finished_ts)
		json_fixed(j, "client_finished",
			   s->client_finished_ts - s->client_first_ts, 3);
	else
		json_null(j, "client_finished");
	json_object_end(j);
}

/* The server's certificate, where TLS 1.2 and older show it. */
static void certificate_json(struct json *j, const struct x509_info *xi)
{
	char t[40];

	json_object_begin(j, "server_certificate");
	if (xi->have & X509_HAVE_SUBJECT)
		json_string(j, "subject", xi->subject);
	if (xi->have & X509_HAVE_ISSUER)
		json_string(j, "issuer", xi->issuer);
	if (xi->have & X509_HAVE_VALIDITY) {
		/* Seconds: the microseconds of format_time are zero. */
		json_string(j, "not_before",
			    format_time(xi->not_before * 1000000, t, sizeof(t)));
		json_string(j, "not_after",
			    format_time(xi->not_after * 1000000, t, sizeof(t)));
	}
	if (xi->have & X509_HAVE_EXTENSIONS && xi->n_san)
		json_string(j, "san", xi->san_first);
	json_bool(j, "self_signed", xi->self_signed);
	json_object_end(j);
}

void report_json(struct json *j, const struct session *s,
		 const struct diagnosis *d, const struct report_extra *x)
{
	const struct session_side *c = &s->side[SIDE_CLIENT];
	const struct session_side *sv = &s->side[SIDE_SERVER];
	char t[40];

	json_object_begin(j, NULL);
	json_string(j, "event", "connection");
	json_string(j, "time", format_time(s->decided_ts, t, sizeof(t)));
	endpoint_json(j, "client", &s->client);
	endpoint_json(j, "server", &s->server);
	if (s->has_peer)
		endpoint_json(j, "peer", &s->peer);
	if (s->proxy_version) {
		json_object_begin(j, "proxy");
		json_uint(j, "version", s->proxy_version);
		json_bool(j, "trusted", s->proxy_trusted);
		json_bool(j, "local", s->proxy_local);
		json_object_end(j);
	}
	json_string(j, "outcome", outcome_name(s->outcome));
	json_string(j, "reason", reason_name(s->reason));
	if (s->detail)
		json_string(j, "detail", s->detail);
	if (s->alert.valid)
		alert_json(j, &s->alert);
	json_string(j, "stage", stage_name(s->stage));
	if (s->ch)
		client_hello_json(j, s->ch, x->ja4);
	if (s->has_sh || s->hrr)
		server_hello_json(j, s);
	if (s->cert)
		certificate_json(j, s->cert);
	json_fixed(j, "duration_ms", s->decided_ts - s->first_ts, 3);
	latency_json(j, s);
	json_object_begin(j, "bytes");
	json_uint(j, "from_client", c->hs_bytes);
	json_uint(j, "from_server", sv->hs_bytes);
	json_object_end(j);
	if (closed_in_handshake(s)) {
		json_object_begin(j, "close");
		json_string(j, "by", s->first_close == SIDE_CLIENT ? "client" :
			    "server");
		switch (s->side[s->first_close].close) {
		case CLOSE_FIN:
			json_string(j, "how", "fin");
			break;
		case CLOSE_RST:
			json_string(j, "how", "rst");
			break;
		default:
			json_null(j, "how");
			break;
		}
		json_object_end(j);
	}
	json_string(j, "capture", capture_name(s->capture));
	if (x->owner_name) {
		json_object_begin(j, "owner");
		json_string(j, "name", x->owner_name);
		json_string(j, "cgroup", x->owner_path);
		json_object_end(j);
	}
	if (d->code != DIAG_NONE)
		diagnosis_json(j, d);
	json_object_end(j);
}

/* So that a hostile name cannot drive the terminal. */
const char *printable(const uint8_t *p, size_t n, char *buf, size_t len)
{
	if (n > len - 1)
		n = len - 1;
	for (size_t i = 0; i < n; i++)
		buf[i] = p[i] >= 0x21 && p[i] < 0x7f ? p[i] : '?';
	buf[n] = '\0';
	return buf;
}

void report_text(const struct session *s, const struct diagnosis *d,
		 const struct report_extra *x, char *buf, size_t len)
{
	size_t n;

	char t[40], ip[64], what[64], alert[64] = "", ver[16] = "", sni[260] = "";
	const char *r = reason_name(s->reason);

	format_time(s->decided_ts, t, sizeof(t));
	endpoint_ip(&s->client, ip, sizeof(ip));
	snprintf(what, sizeof(what), "%s", r ? r : outcome_name(s->outcome));
	if (s->detail)
		snprintf(what + strlen(what), sizeof(what) - strlen(what),
			 "(%s)", s->detail);
	if (s->alert.valid && s->alert.encrypted)
		snprintf(alert, sizeof(alert), " %s:encrypted",
			 s->alert.from == SIDE_CLIENT ? "client" : "server");
	else if (s->alert.valid) {
		const char *name = tls_alert_name(s->alert.code);

		snprintf(alert, sizeof(alert), " %s:%s(%u)",
			 s->alert.from == SIDE_CLIENT ? "client" : "server",
			 name ? name : "unassigned", s->alert.code);
	}
	if (s->ch) {
		char b[8];

		snprintf(ver, sizeof(ver), " %s", tls_version_str(s->ch->version, b));
		if (s->ch->has_sni) {
			sni[0] = ' ';
			printable(s->ch->sni, s->ch->sni_len, sni + 1,
				  sizeof(sni) - 1);
		}
	}
	/* Date and microseconds are in --json; people want the time of day. */
	snprintf(buf, len, "%.12s %s%s%s:%u > :%u %s%s%s%s%s", t + 11,
		 s->client.family == AF_INET6 ? "[" : "", ip,
		 s->client.family == AF_INET6 ? "]" : "", s->client.port,
		 s->server.port, what, alert, ver, sni,
		 s->ch && s->ch->fallback_scsv ? " fallback_scsv" : "");
	n = strlen(buf);
	if (s->has_peer && n < len)
		snprintf(buf + n, len - n, " via %s",
			 endpoint_ip(&s->peer, ip, sizeof(ip)));
	n = strlen(buf);
	if (x->owner_name && n < len)
		snprintf(buf + n, len - n, " [%s]", x->owner_name);
	n = strlen(buf);
	if (d->code != DIAG_NONE && n < len)
		snprintf(buf + n, len - n, "\n    %s%s: %s", diag_code_name(d->code),
			 d->harmless == HARM_YES ? " (harmless)" :
			 d->harmless == HARM_UNKNOWN ? " (harmless if retried)" : "",
			 d->text);
}
