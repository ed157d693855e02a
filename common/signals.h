#ifndef UPDRAFT_COMMON_SIGNALS_H_
#define UPDRAFT_COMMON_SIGNALS_H_

namespace updraft {

// Blocks SIGINT and SIGTERM in the calling thread and every thread it starts
// afterwards. Call first thing in main().
void BlockShutdownSignals();

// Waits for SIGINT or SIGTERM (blocked by BlockShutdownSignals) and returns
// the signal number.
int WaitForShutdownSignal();

}  // namespace updraft

#endif  // UPDRAFT_COMMON_SIGNALS_H_
