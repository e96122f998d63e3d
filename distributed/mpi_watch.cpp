// How a distributed job starts and ends instead of hanging, around the MPI group: MPI_Init
// under a watchdog, what a rank was doing when mpirun stopped it, and MPI's lifetime in the
// process (initialised once, finalised or aborted by finish()) (mpi_watch.h).
//
// Note [stopped by the launcher]
// When a rank dies outright, mpirun ends the job: it names the dead rank and its host, and
// sends every other rank SIGTERM. So that those ranks say what they were doing, each
// collective writes what it waits for ("all_reduce with rank 1 (host h2)") into a fixed
// buffer, and a SIGTERM handler (installed with the first group, unless the program has a
// handler of its own) writes it to stderr with write(2) and ends the process. SIGPIPE is
// ignored: with its default action a rank writing to the killed peer's socket ended without
// a word (1 run in 5 of multihost_test), before mpirun's SIGTERM.
#include "mpi_watch.h"

#include <mpi.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <thread>

#include "../foundation/error.h"
#include "process_group.h"

namespace tg::distributed::detail {

namespace {

struct Activity {
  char who[160] = "";   // "rank 0 of 2 (host h1)"
  char what[512] = "";  // "all_reduce with rank 1 (host h2)"
  volatile sig_atomic_t active = 0;
};
Activity activity;

void write_text(const char* text) {
  size_t left = std::strlen(text);
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, text, left);
    if (n <= 0) return;
    text += n;
    left -= static_cast<size_t>(n);
  }
}

void on_sigterm(int) {
  write_text("error: distributed: ");
  write_text(activity.who);
  write_text(
      " was stopped by SIGTERM (mpirun ends the job so when another rank failed, or when "
      "it is interrupted) ");
  write_text(activity.active ? "during " : "outside any collective");
  if (activity.active) write_text(activity.what);
  write_text("\n");
  ::_exit(128 + SIGTERM);
}

}  // namespace

void install_sigterm_report() {
  struct sigaction current {};
  // A write to a dead peer's socket must come back as an error, not end the process
  // without a word (SIGPIPE's default), as it did to a rank whose peer was killed.
  if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL)
    signal(SIGPIPE, SIG_IGN);
  if (sigaction(SIGTERM, nullptr, &current) != 0 || current.sa_handler != SIG_DFL) return;
  struct sigaction report {};
  report.sa_handler = on_sigterm;
  sigemptyset(&report.sa_mask);
  sigaction(SIGTERM, &report, nullptr);
}

namespace {

// "rank 1", or "one of ranks 1, 2, 3" (at most eight named) of a world of `world` without `rank`.
std::string other_ranks(int rank, int world) {
  std::ostringstream out;
  int named = 0;
  for (int k = 0; k < world && named < 8; ++k) {
    if (k == rank) continue;
    out << (named++ ? ", " : "") << k;
  }
  if (world - 1 > named) out << ", ...";
  return (world == 2 ? "rank " : "one of ranks ") + out.str();
}

const char* env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : fallback;
}

}  // namespace

void init_watched(double timeout_seconds, int required, int* provided) {
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lock(m);
    if (cv.wait_for(lock, std::chrono::duration<double>(timeout_seconds), [&] { return done; }))
      return;
    char host[256] = "";
    (void)::gethostname(host, sizeof host - 1);
    const int rank = std::atoi(env_or("OMPI_COMM_WORLD_RANK", "-1"));
    const int world = std::atoi(env_or("OMPI_COMM_WORLD_SIZE", "0"));
    const std::string others = world > 1 ? other_ranks(rank, world) : "another rank";
    std::fprintf(stderr,
                 "error: distributed: MPI_Init timed out after %g s on rank %d of %d (host %s): "
                 "%s did not start, or cannot reach this one\n",
                 timeout_seconds, rank, world, host, others.c_str());
    std::fflush(stderr);
    std::_Exit(1);
  });
  const int code = MPI_Init_thread(nullptr, nullptr, required, provided);
  {
    std::lock_guard<std::mutex> lock(m);
    done = true;
  }
  cv.notify_one();
  watchdog.join();
  TG_CHECK(code == MPI_SUCCESS, "distributed: MPI_Init_thread failed");
}

void set_activity(const std::string& who, const std::string& what) {
  activity.active = 0;
  std::snprintf(activity.who, sizeof activity.who, "%s", who.c_str());
  std::snprintf(activity.what, sizeof activity.what, "%s", what.c_str());
  activity.active = 1;
}

void clear_activity() { activity.active = 0; }

// ---- MPI's lifetime in this process ----

namespace {

struct MpiState {
  std::mutex mutex;
  bool initialized = false, finished = false;
  std::atomic<bool> broken{false};
  int thread_level = MPI_THREAD_SINGLE;
};
MpiState& state() {
  static MpiState s;
  return s;
}

void finish_at_exit() { finish(0); }

}  // namespace

void ensure_initialized(double timeout_seconds) {
  MpiState& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.initialized) return;
  TG_CHECK(!s.finished, "distributed: MPI was already finalised in this process");
  int already = 0;
  MPI_Initialized(&already);
  if (already) {
    MPI_Query_thread(&s.thread_level);
  } else {
    init_watched(timeout_seconds, MPI_THREAD_SERIALIZED, &s.thread_level);
  }
  // Errors come back as codes (the group checks them) instead of aborting inside MPI.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  s.initialized = true;
  install_sigterm_report();
  std::atexit(finish_at_exit);
}

int mpi_thread_level() { return state().thread_level; }
void mark_mpi_broken() { state().broken = true; }
bool mpi_broken() { return state().broken; }

}  // namespace tg::distributed::detail

namespace tg::distributed {

int finish(int exit_code) {
  detail::MpiState& s = detail::state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (!s.initialized || s.finished) return exit_code;
  s.finished = true;
  int world = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  if (s.broken || (exit_code != 0 && world > 1)) {
    MPI_Abort(MPI_COMM_WORLD, exit_code != 0 ? exit_code : 1);
  }
  MPI_Finalize();
  return exit_code;
}

}  // namespace tg::distributed
