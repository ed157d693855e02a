// Linked into every binary of `--config=tsan` (as the --custom_malloc library,
// the one hook Bazel offers to add code to every cc_test): makes the
// synchronisation of Debian's Abseil, which is not built with TSan, visible to
// TSan.
//
// libabsl_synchronization.so is uninstrumented, so TSan does not see that an
// absl::Mutex orders the accesses it guards and would report every
// Mutex-protected field as a race. The executable's definitions below
// interpose the library's (ELF symbol interposition, also for calls from
// libgrpc): each calls the real function (dlsym RTLD_NEXT) and tells TSan
// about the happens-before edge: __tsan_release(object) before a lock is
// given up, __tsan_acquire(object) once it is held. Mangled names are those
// of Abseil 20220623 as built by Debian (inline namespace "debian3"); a
// missing symbol aborts at first use, naming it.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

#include "absl/synchronization/barrier.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);

namespace {

void* Real(const char* mangled) {
  void* fn = dlsym(RTLD_NEXT, mangled);
  if (fn == nullptr) {
    std::fprintf(stderr, "tsan_support: %s not found in the Abseil library\n", mangled);
    std::abort();
  }
  return fn;
}

template <typename Fn>
Fn RealFn(const char* mangled) {
  return reinterpret_cast<Fn>(Real(mangled));
}

#define UPDRAFT_REAL(type, mangled) static const auto real = RealFn<type>(mangled)

void Acquire(const void* addr) { __tsan_acquire(const_cast<void*>(addr)); }
void Release(const void* addr) { __tsan_release(const_cast<void*>(addr)); }

// A Condition is evaluated by whichever thread holds the Mutex, often the one
// unlocking it on behalf of a waiter (inside UnlockSlow). The wrapper makes
// each evaluation acquire the Mutex's clock before and release it after, so
// TSan orders the evaluation with the waiter's accesses on both sides.
struct WrappedCondition {
  const absl::Condition* cond;
  const absl::Mutex* mu;
};

bool EvalWrapped(WrappedCondition* w) {
  Acquire(w->mu);
  const bool result = w->cond->Eval();
  Release(w->mu);
  return result;
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

using CondRef = const Condition&;

#define UPDRAFT_WRAP(cond)                       \
  WrappedCondition wrapped_state{&(cond), this}; \
  const Condition wrapped(EvalWrapped, &wrapped_state)

void Mutex::Lock() {
  UPDRAFT_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex4LockEv");
  real(this);
  Acquire(this);
}

void Mutex::ReaderLock() {
  UPDRAFT_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex10ReaderLockEv");
  real(this);
  Acquire(this);
}

bool Mutex::TryLock() {
  UPDRAFT_REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex7TryLockEv");
  bool locked = real(this);
  if (locked) Acquire(this);
  return locked;
}

bool Mutex::ReaderTryLock() {
  UPDRAFT_REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex13ReaderTryLockEv");
  bool locked = real(this);
  if (locked) Acquire(this);
  return locked;
}

void Mutex::Unlock() {
  UPDRAFT_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex6UnlockEv");
  Release(this);
  real(this);
}

void Mutex::ReaderUnlock() {
  UPDRAFT_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex12ReaderUnlockEv");
  Release(this);
  real(this);
}

void Mutex::LockWhen(CondRef cond) {
  UPDRAFT_REAL(void (*)(Mutex*, CondRef), "_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE");
  UPDRAFT_WRAP(cond);
  real(this, wrapped);
  Acquire(this);
}

void Mutex::ReaderLockWhen(CondRef cond) {
  UPDRAFT_REAL(void (*)(Mutex*, CondRef),
               "_ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE");
  UPDRAFT_WRAP(cond);
  real(this, wrapped);
  Acquire(this);
}

bool Mutex::LockWhenWithTimeout(CondRef cond, Duration timeout) {
  UPDRAFT_REAL(bool (*)(Mutex*, CondRef, Duration),
               "_ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  UPDRAFT_WRAP(cond);
  bool met = real(this, wrapped, timeout);
  Acquire(this);
  return met;
}

bool Mutex::ReaderLockWhenWithTimeout(CondRef cond, Duration timeout) {
  UPDRAFT_REAL(bool (*)(Mutex*, CondRef, Duration),
               "_ZN4absl7debian35Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  UPDRAFT_WRAP(cond);
  bool met = real(this, wrapped, timeout);
  Acquire(this);
  return met;
}

bool Mutex::LockWhenWithDeadline(CondRef cond, Time deadline) {
  UPDRAFT_REAL(bool (*)(Mutex*, CondRef, Time),
               "_ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  UPDRAFT_WRAP(cond);
  bool met = real(this, wrapped, deadline);
  Acquire(this);
  return met;
}

bool Mutex::ReaderLockWhenWithDeadline(CondRef cond, Time deadline) {
  UPDRAFT_REAL(bool (*)(Mutex*, CondRef, Time),
               "_ZN4absl7debian35Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  UPDRAFT_WRAP(cond);
  bool met = real(this, wrapped, deadline);
  Acquire(this);
  return met;
}

void Mutex::Await(CondRef cond) {
  UPDRAFT_REAL(void (*)(Mutex*, CondRef), "_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE");
  Release(this);
  UPDRAFT_WRAP(cond);
  real(this, wrapped);
  Acquire(this);
}

bool Mutex::AwaitWithTimeout(CondRef cond, Duration timeout) {
  UPDRAFT_REAL(bool (*)(Mutex*, CondRef, Duration),
               "_ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  Release(this);
  UPDRAFT_WRAP(cond);
  bool met = real(this, wrapped, timeout);
  Acquire(this);
  return met;
}

bool Mutex::AwaitWithDeadline(CondRef cond, Time deadline) {
  UPDRAFT_REAL(bool (*)(Mutex*, CondRef, Time),
               "_ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  Release(this);
  UPDRAFT_WRAP(cond);
  bool met = real(this, wrapped, deadline);
  Acquire(this);
  return met;
}

void CondVar::Wait(Mutex* mu) {
  UPDRAFT_REAL(void (*)(CondVar*, Mutex*), "_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE");
  Release(mu);
  real(this, mu);
  Acquire(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  UPDRAFT_REAL(bool (*)(CondVar*, Mutex*, Duration),
               "_ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  Release(mu);
  bool timed_out = real(this, mu, timeout);
  Acquire(mu);
  return timed_out;
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  UPDRAFT_REAL(bool (*)(CondVar*, Mutex*, Time),
               "_ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  Release(mu);
  bool timed_out = real(this, mu, deadline);
  Acquire(mu);
  return timed_out;
}

// HasBeenNotified() is inline: an acquire load of `notified_yet_`, which
// follows the Mutex in the object; releasing that address pairs with it.
static_assert(sizeof(Notification) == sizeof(Mutex) + sizeof(void*),
              "Notification layout changed: update tsan_support.cc");

void Notification::Notify() {
  UPDRAFT_REAL(void (*)(Notification*), "_ZN4absl7debian312Notification6NotifyEv");
  Release(this);
  Release(reinterpret_cast<char*>(this) + sizeof(Mutex));
  real(this);
}

void Notification::WaitForNotification() const {
  UPDRAFT_REAL(void (*)(const Notification*),
               "_ZNK4absl7debian312Notification19WaitForNotificationEv");
  real(this);
  Acquire(this);
}

bool Notification::WaitForNotificationWithTimeout(Duration timeout) const {
  UPDRAFT_REAL(bool (*)(const Notification*, Duration),
               "_ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE");
  bool notified = real(this, timeout);
  if (notified) Acquire(this);
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(Time deadline) const {
  UPDRAFT_REAL(bool (*)(const Notification*, Time),
               "_ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE");
  bool notified = real(this, deadline);
  if (notified) Acquire(this);
  return notified;
}

bool BlockingCounter::DecrementCount() {
  UPDRAFT_REAL(bool (*)(BlockingCounter*), "_ZN4absl7debian315BlockingCounter14DecrementCountEv");
  Release(this);
  bool last = real(this);
  if (last) Acquire(this);
  return last;
}

void BlockingCounter::Wait() {
  UPDRAFT_REAL(void (*)(BlockingCounter*), "_ZN4absl7debian315BlockingCounter4WaitEv");
  real(this);
  Acquire(this);
}

bool Barrier::Block() {
  UPDRAFT_REAL(bool (*)(Barrier*), "_ZN4absl7debian37Barrier5BlockEv");
  Release(this);
  bool last = real(this);
  Acquire(this);
  return last;
}

ABSL_NAMESPACE_END
}  // namespace absl
