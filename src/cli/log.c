/* Error and debug output.  Engines read the log: containerd's shim and
 * Podman take the last `level=error` line of --log as the runtime's error,
 * so every error goes through cli_report() and is written exactly once. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* RFC 3339 with nanoseconds, UTC: 2006-01-02T15:04:05.999999999Z. */
static void format_time(char *buf, size_t size)
{
        struct timespec ts;
        struct tm tm;
        size_t n;

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + n, size - n, ".%09ldZ", ts.tv_nsec);
}

/* JSON string escaping; also used for the quoted msg of text lines, which
 * logrus-style parsers read the same way. */
static void put_escaped(FILE *f, const char *s)
{
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\')
                        fprintf(f, "\\%c", c);
                else if (c == '\n')
                        fputs("\\n", f);
                else if (c == '\r')
                        fputs("\\r", f);
                else if (c == '\t')
                        fputs("\\t", f);
                else if (c < 0x20)
                        fprintf(f, "\\u%04x", c);
                else
                        fputc(c, f);
        }
}

static char *format_line(enum cli_log_format format, const char *level, const char *msg, size_t *len)
{
        char now[64];
        char *line = NULL;
        FILE *f = open_memstream(&line, len);

        if (!f)
                cli_oom();
        format_time(now, sizeof now);
        if (format == CLI_LOG_JSON) {
                fprintf(f, "{\"level\":\"%s\",\"msg\":\"", level);
                put_escaped(f, msg);
                fprintf(f, "\",\"time\":\"%s\"}\n", now);
        } else {
                fprintf(f, "time=\"%s\" level=%s msg=\"", now, level);
                put_escaped(f, msg);
                fputs("\"\n", f);
        }
        if (fclose(f) != 0)
                cli_oom();
        return line;
}

static void write_all(int fd, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, buf, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return;
                buf += n;
                len -= (size_t)n;
        }
}

/* Opened per line rather than kept open: a long-lived fd could land on 3..,
 * which --preserve-fds hands to the container. */
static void append_to_log(struct cli *cli, const char *line, size_t len)
{
        int fd = open(cli->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);

        if (fd < 0) {
                if (!cli->log_failed)
                        fprintf(stderr, "berth: open log `%s`: %s\n", cli->log_path, strerror(errno));
                cli->log_failed = true;
                return;
        }
        write_all(fd, line, len);
        close(fd);
}

/* One log line to --log, or to stderr when there is no log file. */
static void emit(struct cli *cli, const char *level, const char *msg)
{
        int saved = errno;
        size_t len;
        _cleanup_free_ char *line = format_line(cli->log_format, level, msg, &len);

        if (cli->log_path)
                append_to_log(cli, line, len);
        else
                write_all(STDERR_FILENO, line, len);
        errno = saved;
}

/* With --log-format json and no --log, stderr carries the JSON line alone. */
static bool stderr_is_text(const struct cli *cli)
{
        return cli->log_path || cli->log_format == CLI_LOG_TEXT;
}

static int cli_report(struct cli *cli, const char *text)
{
        if (stderr_is_text(cli))
                fprintf(stderr, "berth: %s\n", text);
        if (cli->log_path || cli->log_format == CLI_LOG_JSON)
                emit(cli, "error", text);
        return 1;
}

static char *vformat(int errnum, const char *fmt, va_list ap)
{
        char *msg, *text;

        if (vasprintf(&msg, fmt, ap) < 0)
                cli_oom();
        if (errnum <= 0)
                return msg;
        if (asprintf(&text, "%s: %s", msg, strerror(errnum)) < 0)
                cli_oom();
        free(msg);
        return text;
}

int cli_error(struct cli *cli, const berth_error *err)
{
        if (!err)
                return cli_report(cli, "unknown error");
        return cli_fail(cli, berth_error_errno(err), "%s", berth_error_message(err));
}

int cli_fail(struct cli *cli, int errnum, const char *fmt, ...)
{
        va_list ap;
        _cleanup_free_ char *text = NULL;

        va_start(ap, fmt);
        text = vformat(errnum, fmt, ap);
        va_end(ap);
        return cli_report(cli, text);
}

int cli_usage_error(struct cli *cli, const char *cmd, const char *fmt, ...)
{
        va_list ap;
        _cleanup_free_ char *text = NULL;

        va_start(ap, fmt);
        text = vformat(0, fmt, ap);
        va_end(ap);
        cli_report(cli, text);
        if (stderr_is_text(cli))
                fprintf(stderr, "see `berth%s%s --help`\n", cmd ? " " : "", cmd ? cmd : "");
        return 1;
}

/* Warnings from the library (failed poststart/poststop hooks): shown, never fatal. */
void cli_warn_log(void *data, const char *msg)
{
        struct cli *cli = data;

        if (stderr_is_text(cli))
                fprintf(stderr, "berth: warning: %s\n", msg);
        if (cli->log_path || cli->log_format == CLI_LOG_JSON)
                emit(cli, "warning", msg);
}

void cli_debug_log(void *data, const char *msg)
{
        emit(data, "debug", msg);
}

void cli_debug(struct cli *cli, const char *fmt, ...)
{
        va_list ap;
        _cleanup_free_ char *text = NULL;

        if (!cli->debug)
                return;
        va_start(ap, fmt);
        text = vformat(0, fmt, ap);
        va_end(ap);
        emit(cli, "debug", text);
}
