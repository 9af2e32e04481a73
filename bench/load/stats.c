/* loadgen's figures: latency samples, CPU from /proc, the JSON report. */
#include "loadgen.h"
#include <dirent.h>
#include <sys/resource.h>

void latency_init(struct stats *st) {
  st->samples = malloc(sizeof(double) * MAX_SAMPLES);
}

void latency_add(struct stats *st, double us) {
  st->seen++;
  if (st->n_samples < MAX_SAMPLES) {
    st->samples[st->n_samples++] = us;
  } else {
    uint64_t j = (uint64_t)rand() * (uint64_t)RAND_MAX % st->seen; /* reservoir: keeps a uniform sample */
    if (j < MAX_SAMPLES) st->samples[j] = us;
  }
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double percentile(const struct stats *st, double p) {
  if (st->n_samples == 0) return 0;
  uint64_t i = (uint64_t)(p / 100.0 * (double)(st->n_samples - 1) + 0.5);
  return st->samples[i];
}

/* utime + stime of a process, in seconds; its parent pid through *ppid. */
static double proc_cpu(int pid, int *ppid) {
  char path[64], text[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = 0;
  char *p = strrchr(text, ')'); /* the name may hold spaces */
  if (!p) return 0;
  unsigned long utime = 0, stime = 0;
  int parent = 0;
  /* fields after the name: state ppid ... utime(14) stime(15) */
  sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &parent, &utime, &stime);
  if (ppid) *ppid = parent;
  return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU of `root` and all its descendants (wrappers such as bash -c count too). */
static double tree_cpu(int root) {
  if (root <= 0) return 0;
  int pids[4096], parents[4096], n = 0;
  double cpu[4096];
  DIR *d = opendir("/proc");
  struct dirent *e;
  while (d && (e = readdir(d)) && n < 4096) {
    int pid = atoi(e->d_name);
    if (pid <= 0) continue;
    pids[n] = pid;
    cpu[n] = proc_cpu(pid, &parents[n]);
    n++;
  }
  if (d) closedir(d);
  double total = 0;
  for (int i = 0; i < n; i++) {
    for (int p = pids[i], depth = 0; p > 1 && depth < 64; depth++) {
      if (p == root) { total += cpu[i]; break; }
      int j = 0;
      while (j < n && pids[j] != p) j++;
      if (j == n) break;
      p = parents[j];
    }
  }
  return total;
}

void cpu_sample(struct cpu *cpu, int server_pid) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  cpu->at = now();
  cpu->self_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                (double)ru.ru_stime.tv_usec / 1e6;
  cpu->server_s = tree_cpu(server_pid);
  unsigned long long v[10] = {0};
  FILE *f = fopen("/proc/stat", "r");
  if (f) {
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
               &v[6], &v[7], &v[8], &v[9]) < 8) memset(v, 0, sizeof v);
    fclose(f);
  }
  double tick = (double)sysconf(_SC_CLK_TCK);
  double idle = (double)(v[3] + v[4]), all = 0;
  for (int i = 0; i < 8; i++) all += (double)v[i];
  cpu->busy_s = (all - idle) / tick;
  cpu->total_s = all / tick;
}

void report(const struct options *opt, struct stats *st, const struct cpu *a, const struct cpu *b, double seconds) {
  static const char *kinds[ERR_KINDS] = {"none", "connect", "reset", "eof", "mismatch", "extra_bytes", "timeout", "tls"};
  static const char *modes[] = {"pingpong", "stream", "connect"};
  qsort(st->samples, st->n_samples, sizeof(double), by_value);
  double mean = 0;
  for (uint64_t i = 0; i < st->n_samples; i++) mean += st->samples[i];
  if (st->n_samples) mean /= (double)st->n_samples;
  double wall = b->at - a->at > 0 ? b->at - a->at : seconds;
  double client = (b->self_s - a->self_s) / wall * 100, server = (b->server_s - a->server_s) / wall * 100;
  double busy = (b->busy_s - a->busy_s) / wall * 100;
  double other = busy - client - server;
  uint64_t ops = opt->mode == MODE_CONNECT ? st->completed : st->messages;
  double per_op = ops ? (b->server_s - a->server_s) * 1e6 / (double)ops : 0;
  printf("{\"label\":\"%s\",\"mode\":\"%s\",\"conns\":%d,\"size\":%d,\"in_flight\":%d,\"tls\":%s,\"seconds\":%.3f,"
         "\"msgs_per_s\":%.1f,\"rx_MBps\":%.3f,\"conns_per_s\":%.1f,"
         "\"lat_us\":{\"n\":%llu,\"mean\":%.1f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f},"
         "\"errors\":%llu,\"error_kinds\":{",
         opt->label, modes[opt->mode], opt->conns, opt->size, opt->in_flight, opt->tls ? "true" : "false", seconds,
         (double)st->messages / seconds, (double)st->rx_bytes / seconds / 1e6, (double)st->completed / seconds,
         (unsigned long long)st->seen, mean, percentile(st, 50), percentile(st, 90), percentile(st, 99),
         percentile(st, 99.9), st->n_samples ? st->samples[st->n_samples - 1] : 0, (unsigned long long)st->errors);
  for (int k = 1; k < ERR_KINDS; k++) printf("%s\"%s\":%llu", k > 1 ? "," : "", kinds[k], (unsigned long long)st->error_kinds[k]);
  printf("},\"drain_timeouts\":%llu,\"client_cpu_pct\":%.1f,\"server_cpu_pct\":%.1f,\"server_cpu_us_per_op\":%.2f,"
         "\"machine_busy_pct\":%.1f,\"other_cpu_pct\":%.1f}\n",
         (unsigned long long)st->drain_timeouts, client, server, per_op, busy, other > 0 ? other : 0);
  fprintf(stderr, "loadgen %s %s c=%d s=%d: %.0f msg/s %.1f MB/s %.0f conn/s p50 %.0f us p99 %.0f us, srv %.0f%% cli %.0f%% oth %.0f%%, %llu errors\n",
          opt->label, modes[opt->mode], opt->conns, opt->size, (double)st->messages / seconds,
          (double)st->rx_bytes / seconds / 1e6, (double)st->completed / seconds, percentile(st, 50), percentile(st, 99),
          server, client, other > 0 ? other : 0, (unsigned long long)st->errors);
  if (st->errors) {
    for (int k = 1; k < ERR_KINDS; k++)
      if (st->error_kinds[k]) fprintf(stderr, "  %s: %llu\n", kinds[k], (unsigned long long)st->error_kinds[k]);
  }
}
