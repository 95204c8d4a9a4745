/* JSON parser tests: RFC 8259 conformance (accept / reject), error positions, the tree API. */
#include <math.h>
#include <stdint.h>

#include "../../src/json.h"
#include "testutil.h"

static json_value *parse(const char *s, size_t len, char *err, size_t errlen) {
    return json_parse(s, len, err, errlen);
}

static void accept(const char *s) {
    char err[128] = "";
    json_value *v = parse(s, strlen(s), err, sizeof err);
    CHECK(v != NULL, "should parse: %s (%s)", s, err);
    json_free(v);
}

/* Rejected, with a message mentioning `where` (e.g. "byte 3"). */
static void reject_n(const char *s, size_t len, const char *where) {
    char err[128] = "";
    json_value *v = parse(s, len, err, sizeof err);
    CHECK(v == NULL, "should fail: %.*s", (int)len, s);
    CHECK(err[0] && (!where || strstr(err, where)), "message for %.*s: \"%s\" (want \"%s\")",
          (int)len, s, err, where ? where : "");
    json_free(v);
}
static void reject(const char *s, const char *where) { reject_n(s, strlen(s), where); }

static void conformance(void) {
    const char *ok[] = {
        "{}", "[]", "0", "-0", "1", "-1", "1.5", "1e10", "1E+10", "1e-10", "-0.0e0", "123456789",
        "\"\"", "\"a\"", "true", "false", "null", " [ 1 , 2 ] ", "\t\n\r{\"a\":[]}\r\n",
        "{\"a\":{\"b\":{\"c\":[1,[2,[3]]]}}}", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
        "\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"", "\"é€😀\"", "1e308", "1e-400", "[1e-400]",
        "{\"\":0}", "{\"a\":1,\"b\":2,\"A\":3}", "[null,true,false,\"x\",{},[]]",
        "\"\xF4\x8F\xBF\xBF\"", "\"\\u007f\x7f\"",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) accept(ok[i]);

    reject("", "byte 0");
    reject("   ", "byte 3");
    reject("{", "byte 1");
    reject("[1,]", "byte 3");
    reject("[,1]", "byte 1");
    reject("{\"a\":1,}", "byte 7");
    reject("{\"a\" 1}", "byte 5");
    reject("{1:2}", "byte 1");
    reject("{\"a\":}", "byte 5");
    reject("[1 2]", "byte 3");
    reject("01", "byte 0");
    reject("-01", "byte 0");
    reject("1.", "byte 2");
    reject(".5", "byte 0");
    reject("+1", "byte 0");
    reject("1e", "byte 2");
    reject("1e+", "byte 3");
    reject("-", "byte 1");
    reject("- 1", "byte 1");
    reject("NaN", "byte 0");
    reject("Infinity", "byte 0");
    reject("-Infinity", "byte 1");
    reject("0x10", "byte 1");
    reject("1e400", "out of range");
    reject("-1e400", "out of range");
    reject("'a'", "byte 0");
    reject("\"a", "unterminated");
    reject("\"\\x\"", "invalid escape");
    reject("\"\\u12\"", "hex");
    reject("\"\\u12", "truncated");
    reject("\"\\", "truncated");
    reject("\"\\ud800\"", "high surrogate");
    reject("\"\\udc00\"", "low surrogate");
    reject("\"\\ud800\\u0041\"", "not a low");
    reject("\"\\ud800\\", "surrogate");
    reject("\"\\u0000\"", "NUL");
    reject("\"a\tb\"", "control character");
    reject("\"a\nb\"", "control character");
    reject("\"\xC0\xAF\"", "UTF-8");            /* overlong '/' */
    reject("\"\xED\xA0\x80\"", "UTF-8");        /* surrogate */
    reject("\"\xF4\x90\x80\x80\"", "UTF-8");    /* above U+10FFFF */
    reject("\"\xF5\x80\x80\x80\"", "UTF-8");
    reject("\"\x80\"", "UTF-8");
    reject("\"\xE2\x82\"", "UTF-8");            /* truncated sequence */
    reject("\xEF\xBB\xBF{}", "byte 0");         /* BOM */
    reject("{\"a\":1,\"a\":2}", "duplicate key \"a\"");
    reject("{\"b\":{\"x\":1,\"y\":2,\"x\":3}}", "byte 18");
    reject("{\"\\u0061\":1,\"a\":2}", "duplicate");
    reject("tru", "byte 0");
    reject("nul", "byte 0");
    reject("truex", "byte 4");
    reject("{} x", "byte 3");
    reject("[] []", "byte 3");
    reject("\x01", "byte 0");
    reject_n("[1]\0", 4, "byte 3");
    reject_n("\"a\0b\"", 5, "control");

    /* Depth: JSON_MAX_DEPTH nested arrays parse, one more does not. */
    char deep[2 * JSON_MAX_DEPTH + 8];
    for (int extra = 0; extra <= 1; extra++) {
        int d = JSON_MAX_DEPTH + extra;
        for (int i = 0; i < d; i++) deep[i] = '[', deep[d + i] = ']';
        deep[2 * d] = '\0';
        if (extra) reject(deep, "nesting deeper");
        else accept(deep);
    }
    /* Hostile depth must not recurse past the limit. */
    size_t big = 1 << 20;
    char *b = malloc(big);
    memset(b, '[', big);
    reject_n(b, big, "nesting deeper");
    memset(b, '{', big);
    reject_n(b, big, "byte 1");
    free(b);

    /* Long numbers. */
    char num[400];
    memset(num, '1', 300);
    num[300] = '\0';
    reject(num, "longer than");
    memset(num, '1', 256);
    num[256] = '\0';
    accept(num);   /* 1.1e255 */

    /* NULL text with zero length is an empty document. */
    char err[64];
    CHECK(json_parse(NULL, 0, err, sizeof err) == NULL, "NULL text");
    CHECK(json_parse("[x]", 3, NULL, 0) == NULL, "no error buffer");
    size_t pos = 0;
    CHECK(json_parse_ex("[1,,]", 5, err, sizeof err, &pos) == NULL && pos == 3 &&
          strncmp(err, "byte", 4) != 0, "json_parse_ex: pos %zu \"%s\"", pos, err);
}

static void api(void) {
    const char *s = "{\"b\": [1, 2.5, -3e2, \"x\\u00e9\"], \"a\": {\"k\": true, \"n\": null},"
                    " \"c\": false, \"s\": \"hello\"}";
    char err[128];
    json_value *v = json_parse(s, strlen(s), err, sizeof err);
    CHECK(v != NULL, "%s", err);
    if (!v) return;
    CHECK(json_kind(v) == JSON_OBJECT && json_count(v) == 4, "root");
    CHECK(strcmp(json_key_at(v, 0), "b") == 0 && strcmp(json_key_at(v, 3), "s") == 0,
          "document order kept");
    CHECK(json_key_at(v, 4) == NULL && json_at(v, 4) == NULL, "out of range");
    const json_value *arr = json_get(v, "b");
    CHECK(json_kind(arr) == JSON_ARRAY && json_count(arr) == 4, "array");
    double d = 0;
    CHECK(json_number(json_at(arr, 1), &d) == 0 && d == 2.5, "2.5");
    CHECK(json_number(json_at(arr, 2), &d) == 0 && d == -300, "-3e2");
    CHECK(json_number(json_at(arr, 3), &d) == -1, "string is not a number");
    CHECK(strcmp(json_string(json_at(arr, 3)), "x\xC3\xA9") == 0 &&
          json_string_len(json_at(arr, 3)) == 3, "escaped string");
    CHECK(json_string(json_at(arr, 0)) == NULL && json_string_len(arr) == 0, "not strings");
    CHECK(json_kind(json_get(json_get(v, "a"), "k")) == JSON_TRUE, "true");
    CHECK(json_kind(json_get(json_get(v, "a"), "n")) == JSON_NULL, "null");
    CHECK(json_get(json_get(v, "a"), "missing") == NULL, "missing key");
    CHECK(json_get(arr, "b") == NULL && json_key_at(arr, 0) == NULL, "not an object");
    CHECK(json_kind(json_get(v, "c")) == JSON_FALSE, "false");
    CHECK(json_count(json_get(v, "s")) == 0 && json_at(json_get(v, "s"), 0) == NULL, "scalar");
    CHECK(json_get(NULL, "a") == NULL && json_count(NULL) == 0 && json_kind(NULL) == JSON_NULL,
          "NULL tolerated");
    json_free(v);
    json_free(NULL);

    /* A large object: lookups by binary search agree with positions. */
    size_t n = 5000, cap = n * 32 + 16, len = 0;
    char *big = malloc(cap);
    big[len++] = '{';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(big + len, cap - len, "%s\"k%zu\":%zu", i ? "," : "",
                                (i * 7919) % n, i);
    big[len++] = '}';
    v = json_parse(big, len, err, sizeof err);
    CHECK(v && json_count(v) == n, "big object: %s", err);
    int good = 1;
    for (size_t i = 0; v && i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "k%zu", (i * 7919) % n);
        double x = -1;
        json_number(json_get(v, key), &x);
        if (x != (double)i || json_at(v, i) != json_get(v, key)) good = 0;
    }
    CHECK(good, "big object lookups");
    json_free(v);
    /* ... and a duplicate far apart is found. */
    len = 0;
    big[len++] = '{';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(big + len, cap - len, "%s\"k%zu\":0", i ? "," : "",
                                i == n - 1 ? (size_t)17 : i);
    big[len++] = '}';
    v = json_parse(big, len, err, sizeof err);
    CHECK(!v && strstr(err, "duplicate key \"k17\""), "far duplicate: %s", err);
    json_free(v);
    free(big);
}

int main(void) {
    conformance();
    api();
    return t_report("test_json");
}
