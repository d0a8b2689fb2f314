// SPDX-License-Identifier: BSD-3-Clause
/* Diagnosis. Rules go from the most specific evidence to the least: an
 * alert that names the cause, then a comparison of the hello with what
 * the port has accepted, then where the handshake stopped. A rule that
 * needs the port's profile says so when nothing has been learnt yet. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diagnose.h"
#include "report.h"
#include "x509.h"

#define PROF_MAX 256		/* ports with a profile */
#define PROF_CIPHERS 32
#define PROF_GROUPS 16
#define PROF_ALPN 8
#define PROF_SNIS 64
#define PROF_SNI_LEN 64		/* longer names are compared on a prefix */

struct profile {
	uint64_t established;
	uint8_t versions;	/* bit per version_rank() */
	uint8_t nciphers, ngroups, nalpn, nsnis;
	bool snis_full;		/* more names were served than kept */
	uint64_t without_sni;	/* established with no SNI */
	uint16_t ciphers[PROF_CIPHERS];
	uint16_t groups[PROF_GROUPS];
	uint8_t alpn_len[PROF_ALPN];
	uint8_t alpn[PROF_ALPN][TLS_MAX_ALPN_LEN];
	uint8_t sni_len[PROF_SNIS];
	uint32_t sni_key[PROF_SNIS];	/* sni_key() of each */
	char sni[PROF_SNIS][PROF_SNI_LEN];
};

struct profiles {
	struct profile *by_port[65536];
	uint32_t n;
	uint16_t ports[PROF_MAX];	/* those of by_port in use, n of them */
};

static const char *const code_names[DIAG__COUNT] = {
	[DIAG_NONE] = NULL,
	[DIAG_FALLBACK_PROBE] = "fallback_probe",
	[DIAG_FALLBACK_RETRY] = "fallback_retry",
	[DIAG_VERSION_TOO_LOW] = "version_too_low",
	[DIAG_VERSION_TOO_HIGH] = "version_too_high",
	[DIAG_NO_SHARED_CIPHER] = "no_shared_cipher",
	[DIAG_NO_SHARED_GROUP] = "no_shared_group",
	[DIAG_CERTIFICATE_REJECTED] = "certificate_rejected",
	[DIAG_CLIENT_CERTIFICATE_REJECTED] = "client_certificate_rejected",
	[DIAG_SNI_UNKNOWN] = "sni_unknown",
	[DIAG_ALPN_MISMATCH] = "alpn_mismatch",
	[DIAG_SCANNER_PROBE] = "scanner_probe",
	[DIAG_NOT_TLS] = "not_tls",
	[DIAG_SSLV2_HELLO] = "sslv2_hello",
	[DIAG_HANDSHAKE_REFUSED] = "handshake_refused",
	[DIAG_CLIENT_REFUSED] = "client_refused",
	[DIAG_SERVER_SILENT] = "server_silent",
	[DIAG_SERVER_CLOSED] = "server_closed",
	[DIAG_CLIENT_CLOSED] = "client_closed",
	[DIAG_TIMEOUT] = "timeout",
	[DIAG_MALFORMED] = "malformed",
};

const char *diag_code_name(enum diag_code c)
{
	return (unsigned)c < DIAG__COUNT ? code_names[c] : NULL;
}

/* Versions in order; draft TLS 1.3 counts as TLS 1.3. 0: unknown. */
static int version_rank(uint16_t v)
{
	switch (v) {
	case TLS_V_SSL2: return 1;
	case TLS_V_SSL3: return 2;
	case TLS_V_TLS10: return 3;
	case TLS_V_TLS11: return 4;
	case TLS_V_TLS12: return 5;
	case TLS_V_TLS13: return 6;
	default: return (v >> 8) == 0x7f ? 6 : 0;
	}
}

static const uint16_t rank_version[] = {
	0, TLS_V_SSL2, TLS_V_SSL3, TLS_V_TLS10, TLS_V_TLS11, TLS_V_TLS12,
	TLS_V_TLS13,
};

uint16_t hello_max_version(const struct tls_client_hello *ch)
{
	return ch->version;
}

/* Without supported_versions a client accepts any version up to its
 * legacy one, so its lowest is not known: 0. */
uint16_t hello_min_version(const struct tls_client_hello *ch)
{
	int lo = 0;

	if (ch->sslv2_format || !ch->has_supported_versions)
		return 0;
	for (int i = 0; i < ch->n_versions; i++) {
		int r = version_rank(ch->versions[i]);

		if (r && (!lo || r < lo))
			lo = r;
	}
	return lo ? rank_version[lo] : 0;
}

struct profiles *profiles_new(void)
{
	return calloc(1, sizeof(struct profiles));
}

void profiles_free(struct profiles *p)
{
	if (!p)
		return;
	/* Not the whole table: most of its pages were never touched. */
	for (uint32_t i = 0; i < p->n; i++)
		free(p->by_port[p->ports[i]]);
	free(p);
}

static bool has16(const uint16_t *v, int n, uint16_t x)
{
	for (int i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* The first n bytes of a name, folded as sni_find() compares them: equal
 * names have equal keys, so that a search compares whole names only
 * where the keys match (every handshake searches, through up to
 * PROF_SNIS names). */
static uint32_t sni_key(const uint8_t *name, uint8_t n)
{
	uint32_t h = 2166136261u ^ n;

	for (int k = 0; k < n; k++)
		h = (h ^ (name[k] | 0x20)) * 16777619u;
	return h;
}

static int sni_find(const struct profile *pr, const uint8_t *name,
		    uint8_t len)
{
	uint8_t n = len < PROF_SNI_LEN ? len : PROF_SNI_LEN;
	uint32_t key;

	if (!pr->nsnis)
		return -1;
	key = sni_key(name, n);
	for (int i = 0; i < pr->nsnis; i++) {
		int k = 0;

		if (pr->sni_key[i] != key || pr->sni_len[i] != n)
			continue;
		/* Bytes, not a C string: a NUL in a name is just a byte. */
		while (k < n && (pr->sni[i][k] | 0x20) == (name[k] | 0x20))
			k++;
		if (k == n)
			return i;
	}
	return -1;
}

void profiles_learn(struct profiles *p, const struct session *s)
{
	struct profile *pr;
	const struct tls_client_hello *ch = s->ch;
	int r;

	if (s->outcome != OUTCOME_ESTABLISHED || !s->has_sh)
		return;
	pr = p->by_port[s->server.port];
	if (!pr) {
		if (p->n >= PROF_MAX)
			return;
		pr = calloc(1, sizeof(*pr));
		if (!pr)
			return;
		p->by_port[s->server.port] = pr;
		p->ports[p->n++] = s->server.port;
	}
	pr->established++;
	r = version_rank(s->sh.version);
	if (r)
		pr->versions |= 1u << r;
	if (pr->nciphers < PROF_CIPHERS &&
	    !has16(pr->ciphers, pr->nciphers, s->sh.cipher))
		pr->ciphers[pr->nciphers++] = s->sh.cipher;
	if (s->sh.group && pr->ngroups < PROF_GROUPS &&
	    !has16(pr->groups, pr->ngroups, s->sh.group))
		pr->groups[pr->ngroups++] = s->sh.group;
	if (s->sh.has_alpn && s->sh.alpn.n && pr->nalpn < PROF_ALPN) {
		const struct tls_alpn_list *a = &s->sh.alpn;
		bool seen = false;

		for (int i = 0; i < pr->nalpn; i++)
			seen |= pr->alpn_len[i] == a->len[0] &&
				!memcmp(pr->alpn[i], a->name[0], a->len[0]);
		if (!seen) {
			pr->alpn_len[pr->nalpn] = a->len[0];
			memcpy(pr->alpn[pr->nalpn], a->name[0], a->len[0]);
			pr->nalpn++;
		}
	}
	if (!ch || !ch->has_sni) {
		pr->without_sni++;
	} else if (sni_find(pr, ch->sni, ch->sni_len) < 0) {
		if (pr->nsnis < PROF_SNIS) {
			uint8_t n = ch->sni_len < PROF_SNI_LEN ? ch->sni_len :
				    PROF_SNI_LEN;

			memcpy(pr->sni[pr->nsnis], ch->sni, n);
			pr->sni_key[pr->nsnis] = sni_key(ch->sni, n);
			pr->sni_len[pr->nsnis++] = n;
		} else {
			pr->snis_full = true;
		}
	}
}

bool profiles_version_range(const struct profiles *p, uint16_t port,
			    uint16_t *lo, uint16_t *hi)
{
	const struct profile *pr = p->by_port[port];
	int l = 0, h = 0;

	if (!pr || !pr->versions)
		return false;
	for (int r = 1; r <= 6; r++)
		if (pr->versions & (1u << r)) {
			if (!l)
				l = r;
			h = r;
		}
	*lo = rank_version[l];
	*hi = rank_version[h];
	return true;
}

void profiles_versions(const struct profiles *p, uint16_t port, char *buf,
		       size_t len)
{
	uint16_t lo, hi;
	char a[8], b[8];

	buf[0] = '\0';
	if (!profiles_version_range(p, port, &lo, &hi))
		return;
	if (lo == hi)
		snprintf(buf, len, "%s", tls_version_str(lo, a));
	else
		snprintf(buf, len, "%s to %s", tls_version_str(lo, a),
			 tls_version_str(hi, b));
}

/* ---- the rules ---- */

static void say(struct diagnosis *d, enum diag_code c, enum harm h,
		const char *fmt, ...)
{
	va_list ap;

	d->code = c;
	d->harmless = h;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(d->text, sizeof(d->text), fmt, ap);
	va_end(ap);
	/* Cut short: not in the middle of a UTF-8 character (certificate
	 * names are UTF-8). */
	if (n >= (int)sizeof(d->text)) {
		size_t end = sizeof(d->text) - 1;

		while (end && ((uint8_t)d->text[end - 1] & 0xc0) == 0x80)
			end--;
		if (end && ((uint8_t)d->text[end - 1] & 0x80))
			end--;
		d->text[end] = '\0';
	}
}

static bool server_alert_is(const struct session *s, uint8_t code)
{
	return s->reason == REASON_SERVER_ALERT && s->alert.from == SIDE_SERVER &&
	       s->alert.code == code;
}

/* Refused on its hello: an answer (alert or close) from the server
 * before any ServerHello. */
static bool refused_at_hello(const struct session *s)
{
	return !s->has_sh && (s->reason == REASON_SERVER_ALERT ||
			      s->reason == REASON_SERVER_CLOSED ||
			      s->reason == REASON_SSLV2);
}

/* Certificate alerts a client sends when it rejects the server's
 * certificate. */
static bool cert_alert(uint8_t code)
{
	return (code >= 42 && code <= 46) || code == 48 || code == 49 ||
	       code == 111 || code == 113;
}

static const char *alert_text(const struct session *s, char *buf, size_t len)
{
	const char *n;

	if (s->alert.encrypted) {
		snprintf(buf, len, "an encrypted alert");
		return buf;
	}
	n = tls_alert_name(s->alert.code);
	snprintf(buf, len, "%s (%u)", n ? n : "unassigned", s->alert.code);
	return buf;
}

static void date_text(int64_t t, char *buf, size_t len)
{
	time_t tt = t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm)) {
		snprintf(buf, len, "?");
		return;
	}
	strftime(buf, len, "%Y-%m-%d", &tm);
}

/* The port has chosen ciphers, and the hello offers none of them. */
static bool ciphers_disjoint(const struct profiles *p, const struct session *s)
{
	const struct profile *pr = p->by_port[s->server.port];
	const struct tls_client_hello *ch = s->ch;

	if (!pr || !pr->nciphers || ch->cipher_width != 2)
		return false;
	for (int i = 0; i < ch->n_ciphers; i++)
		if (has16(pr->ciphers, pr->nciphers, ch->ciphers[i]))
			return false;
	return true;
}

static bool version_rules(const struct profiles *p, const struct session *s,
			  struct diagnosis *d)
{
	const struct tls_client_hello *ch = s->ch;
	uint16_t lo, hi, cmax = hello_max_version(ch), cmin = hello_min_version(ch);
	bool known = profiles_version_range(p, s->server.port, &lo, &hi);
	char a[8], b[8], c[8], range[32];

	/* What the port has been seen to accept is only a part of what it
	 * accepts: a version outside it explains a refusal that names
	 * versions (protocol_version), says nothing (a close), or comes to
	 * SSL; a handshake_failure with no shared cipher is the cipher's. */
	bool plausible = server_alert_is(s, 70) || !s->alert.valid ||
			 (version_rank(cmax) && version_rank(cmax) <= 2) ||
			 !ciphers_disjoint(p, s);

	profiles_versions(p, s->server.port, range, sizeof(range));
	if (known && plausible && cmin && version_rank(cmin) > version_rank(hi)) {
		say(d, DIAG_VERSION_TOO_HIGH, HARM_NO,
		    "The client offers nothing below %s; this port has accepted %s.",
		    tls_version_str(cmin, a), range);
		return true;
	}
	if (known && plausible && version_rank(cmax) &&
	    version_rank(cmax) < version_rank(lo)) {
		say(d, DIAG_VERSION_TOO_LOW, HARM_NO,
		    "The client offers at most %s; this port has accepted %s.",
		    tls_version_str(cmax, a), range);
		return true;
	}
	/* Refused, nothing learnt: a client offering only TLS 1.3 is
	 * above the server, anything else below it. */
	if (server_alert_is(s, 70) && !known && cmin &&
	    version_rank(cmin) >= version_rank(TLS_V_TLS13)) {
		say(d, DIAG_VERSION_TOO_HIGH, HARM_NO,
		    "The server refused the client's %s (protocol_version), the only version it offers; no handshake on port %u has succeeded yet to show what the server accepts.",
		    tls_version_str(cmin, a), s->server.port);
		return true;
	}
	if (server_alert_is(s, 70) || s->reason == REASON_SSLV2) {
		if (known)
			say(d, DIAG_VERSION_TOO_LOW, HARM_NO,
			    "The server refused the client's %s (protocol_version); this port has accepted %s.",
			    tls_version_str(cmax, a), range);
		else
			say(d, DIAG_VERSION_TOO_LOW, HARM_NO,
			    "The server refused the client's %s (protocol_version); no handshake on port %u has succeeded yet to show what it accepts.",
			    tls_version_str(cmax, b), s->server.port);
		if (s->reason == REASON_SSLV2 && !server_alert_is(s, 70) && !known)
			say(d, DIAG_SSLV2_HELLO, HARM_NO,
			    "The client sent an SSLv2-format hello (offering up to %s) and the server did not answer it.",
			    tls_version_str(cmax, c));
		return true;
	}
	return false;
}

/* Every real cipher the hello offers is one no server should enable. */
static bool only_weak(const struct tls_client_hello *ch)
{
	int n = 0;

	for (int i = 0; i < ch->n_ciphers && ch->cipher_width == 2; i++) {
		uint16_t c = ch->ciphers[i];

		if (tls_is_grease(c) || c == TLS_CIPHER_FALLBACK_SCSV ||
		    c == TLS_CIPHER_EMPTY_RENEGOTIATION_INFO_SCSV)
			continue;
		if (!tls_cipher_weak(c))
			return false;
		n++;
	}
	return n > 0;
}

static bool cipher_rules(const struct profiles *p, const struct session *s,
			 struct diagnosis *d)
{
	const struct profile *pr = p->by_port[s->server.port];
	const struct tls_client_hello *ch = s->ch;
	bool shared = false, gshared = false;
	char chosen[128] = "";
	size_t off = 0;

	if (!server_alert_is(s, 40) && !server_alert_is(s, 71))
		return false;
	if (!pr || !pr->nciphers) {
		say(d, DIAG_NO_SHARED_CIPHER, HARM_NO,
		    "The server refused the hello with %s, most often because no offered cipher is one it accepts; no handshake on port %u has succeeded yet to compare with.",
		    tls_alert_name(s->alert.code), s->server.port);
		return true;
	}
	for (int i = 0; i < ch->n_ciphers && ch->cipher_width == 2; i++)
		shared |= has16(pr->ciphers, pr->nciphers, ch->ciphers[i]);
	for (int i = 0; i < pr->nciphers && i < 4; i++)
		off += snprintf(chosen + off, sizeof(chosen) - off, "%s0x%04x",
				i ? ", " : "", pr->ciphers[i]);
	if (!shared) {
		say(d, DIAG_NO_SHARED_CIPHER, HARM_NO,
		    "None of the client's %u ciphers is one this server chooses (it chose %s%s)%s.",
		    ch->total_ciphers, chosen, pr->nciphers > 4 ? ", ..." : "",
		    only_weak(ch) ? "; the client offers only weak ones (NULL, export, anonymous, RC4 or DES)" : "");
		return true;
	}
	for (int i = 0; i < ch->n_groups; i++)
		gshared |= has16(pr->groups, pr->ngroups, ch->groups[i]);
	if (pr->ngroups && ch->n_groups && !gshared) {
		say(d, DIAG_NO_SHARED_GROUP, HARM_NO,
		    "None of the client's %u key exchange groups is one this server chooses (it chose 0x%04x).",
		    ch->n_groups, pr->groups[0]);
		return true;
	}
	return false;
}

static bool alpn_rule(const struct profiles *p, const struct session *s,
		      struct diagnosis *d)
{
	const struct profile *pr = p->by_port[s->server.port];
	const struct tls_client_hello *ch = s->ch;
	char offered[64] = "", name[TLS_MAX_ALPN_LEN + 1];
	bool overlap = false;
	size_t off = 0;

	for (int i = 0; i < ch->alpn.n && off < sizeof(offered); i++) {
		printable(ch->alpn.name[i], ch->alpn.len[i], name, sizeof(name));
		off += snprintf(offered + off, sizeof(offered) - off, "%s%s",
				i ? "," : "", name);
		for (int k = 0; pr && k < pr->nalpn; k++)
			overlap |= pr->alpn_len[k] == ch->alpn.len[i] &&
				   !memcmp(pr->alpn[k], ch->alpn.name[i],
					   ch->alpn.len[i]);
	}
	if (server_alert_is(s, 120) ||
	    (refused_at_hello(s) && pr && pr->nalpn && ch->alpn.n && !overlap)) {
		say(d, DIAG_ALPN_MISMATCH, HARM_NO,
		    "The server accepts none of the application protocols the client offers (ALPN %s).",
		    offered[0] ? offered : "none");
		return true;
	}
	return false;
}

static bool sni_rule(const struct profiles *p, const struct session *s,
		     struct diagnosis *d)
{
	const struct profile *pr = p->by_port[s->server.port];
	const struct tls_client_hello *ch = s->ch;
	char name[TLS_MAX_SNI + 1], one[PROF_SNI_LEN + 1];
	char served[3 * (PROF_SNI_LEN + 2) + 8] = "";
	size_t off = 0;

	if (ch->has_sni)
		printable(ch->sni, ch->sni_len, name, sizeof(name));
	else
		snprintf(name, sizeof(name), "(no SNI)");
	if (server_alert_is(s, 112)) {
		say(d, DIAG_SNI_UNKNOWN, HARM_NO,
		    "The server does not serve the name %s (unrecognized_name).",
		    name);
		return true;
	}
	if (!refused_at_hello(s) || !pr || !pr->nsnis || pr->snis_full ||
	    (ch->has_sni && sni_find(pr, ch->sni, ch->sni_len) >= 0) ||
	    (!ch->has_sni && pr->without_sni))
		return false;
	/* Names from other clients' hellos: printable only. */
	for (int i = 0; i < pr->nsnis && i < 3; i++) {
		printable((const uint8_t *)pr->sni[i], pr->sni_len[i], one,
			  sizeof(one));
		off += snprintf(served + off, sizeof(served) - off, "%s%s",
				i ? ", " : "", one);
	}
	say(d, DIAG_SNI_UNKNOWN, HARM_NO,
	    "The client asked for %s, a name no successful handshake on this port has used (served: %s%s).",
	    name, served, pr->nsnis > 3 ? ", ..." : "");
	return true;
}

static void cert_rule(const struct session *s, struct diagnosis *d)
{
	const struct x509_info *xi = s->cert;
	char why[64], what[X509_NAME_SIZE + 64] = "", date[16] = "?";

	alert_text(s, why, sizeof(why));
	if (xi && (xi->have & X509_HAVE_SUBJECT)) {
		if (xi->have & X509_HAVE_VALIDITY)
			date_text(xi->not_after, date, sizeof(date));
		/* The date first: a long subject must not push it out. */
		snprintf(what, sizeof(what), ": %s %s%s, %s",
			 (xi->have & X509_HAVE_VALIDITY) &&
			 xi->not_after < (int64_t)(s->first_ts / 1000000) ?
			 "expired on" : "valid until", date,
			 xi->self_signed ? ", self-signed" : "",
			 xi->subject[0] ? xi->subject : "(empty subject)");
	}
	say(d, DIAG_CERTIFICATE_REJECTED, HARM_NO,
	    "The client rejected the server's certificate with %s%s.",
	    s->alert.encrypted ? "an encrypted alert" : why, what);
}

void diagnose(const struct profiles *p, const struct session *s,
	      struct diagnosis *d)
{
	const struct tls_client_hello *ch = s->ch;
	char why[64], b[8];

	memset(d, 0, sizeof(*d));
	d->harmless = HARM_UNKNOWN;
	if (s->outcome != OUTCOME_FAILED)
		return;
	alert_text(s, why, sizeof(why));
	if (s->reason == REASON_NOT_TLS) {
		say(d, DIAG_NOT_TLS, HARM_NO,
		    "The client did not speak TLS: its first bytes look like %s.",
		    s->detail ? s->detail : "unknown");
		return;
	}
	if (s->reason == REASON_MALFORMED) {
		const char *det = s->detail ? s->detail : "";

		if (strcmp(det, "server_http") == 0)
			say(d, DIAG_MALFORMED, HARM_NO,
			    "The server answered the hello in plain HTTP: this port is not serving TLS.");
		else if (strncmp(det, "server_", 7) == 0)
			say(d, DIAG_MALFORMED, HARM_NO,
			    "The server's answer is not TLS (%s): this port is not serving TLS.",
			    det);
		else
			say(d, DIAG_MALFORMED, HARM_NO,
			    "The handshake could not be parsed (%s).",
			    det[0] ? det : "malformed");
		return;
	}
	if (ch && ch->fallback_scsv && server_alert_is(s, 86)) {
		say(d, DIAG_FALLBACK_PROBE, HARM_UNKNOWN,
		    "A TLS_FALLBACK_SCSV probe at %s, refused as it should be (inappropriate_fallback): harmless if the client retries at a higher version.",
		    tls_version_str(ch->version, b));
		return;
	}
	/* The hello-based rules; without a whole hello (a client that
	 * stopped in the middle of it) only the reason speaks. */
	if (ch && !s->has_sh && (version_rules(p, s, d) ||
				 cipher_rules(p, s, d) || alpn_rule(p, s, d) ||
				 sni_rule(p, s, d)))
		return;
	/* The server refused the client's certificate: certificate_required,
	 * or an alert after the client's flight, when TLS 1.2 shows that a
	 * certificate was asked for (TLS 1.3 hides the request: rule 2's
	 * encrypted alert is the sign). */
	if (server_alert_is(s, 116) ||
	    (s->reason == REASON_SERVER_ALERT && s->cert_requested &&
	     s->stage == STAGE_CLIENT_FLIGHT) ||
	    (s->reason == REASON_ENCRYPTED_ALERT && s->alert.from == SIDE_SERVER &&
	     s->tls13 && s->stage == STAGE_CLIENT_FLIGHT)) {
		say(d, DIAG_CLIENT_CERTIFICATE_REJECTED, HARM_NO,
		    "The server refused the client's certificate with %s%s.",
		    why, s->client_cert_empty ? ": the client sent none" :
		    s->cert_requested && !s->client_cert_sent ?
		    ": the client sent none" : "");
		return;
	}
	if ((s->reason == REASON_CLIENT_ALERT && cert_alert(s->alert.code)) ||
	    (s->reason == REASON_ENCRYPTED_ALERT && s->alert.from == SIDE_CLIENT &&
	     s->stage <= STAGE_SERVER_FLIGHT)) {
		cert_rule(s, d);
		return;
	}
	if (s->reason == REASON_CLIENT_CLOSED && s->stage == STAGE_SERVER_FLIGHT) {
		say(d, DIAG_SCANNER_PROBE, HARM_YES,
		    "The client closed after the server's flight without an alert, as scanners and certificate checkers do.");
		return;
	}
	switch (s->reason) {
	case REASON_SERVER_ALERT:
	case REASON_ENCRYPTED_ALERT:
		if (s->alert.from == SIDE_SERVER) {
			say(d, DIAG_HANDSHAKE_REFUSED, HARM_NO,
			    "The server ended the handshake with %s at %s.",
			    why, stage_name(s->stage));
			return;
		}
		/* fall through */
	case REASON_CLIENT_ALERT:
		say(d, DIAG_CLIENT_REFUSED, HARM_NO,
		    "The client ended the handshake with %s at %s.", why,
		    stage_name(s->stage));
		return;
	case REASON_CLIENT_CLOSED:
		if (s->stage <= STAGE_CLIENT_HELLO)
			say(d, DIAG_SERVER_SILENT, HARM_NO,
			    "The server did not answer the hello and the client gave up.");
		else
			say(d, DIAG_CLIENT_CLOSED, HARM_NO,
			    "The client closed at %s without an alert.",
			    stage_name(s->stage));
		return;
	case REASON_SERVER_CLOSED:
		say(d, DIAG_SERVER_CLOSED, HARM_NO,
		    "The server closed at %s without an alert.",
		    stage_name(s->stage));
		return;
	case REASON_TIMEOUT:
		say(d, DIAG_TIMEOUT, HARM_NO,
		    "The handshake had not finished when the handshake timeout passed (stopped at %s).",
		    stage_name(s->stage));
		return;
	case REASON_SSLV2:
		say(d, DIAG_SSLV2_HELLO, HARM_NO,
		    "The client sent an SSLv2-format hello and the server did not answer it.");
		return;
	default:
		say(d, DIAG_MALFORMED, HARM_NO, "The handshake failed (%s).",
		    reason_name(s->reason));
		return;
	}
}
