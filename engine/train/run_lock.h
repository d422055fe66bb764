// An exclusive lock on a run directory, so two `ember train` processes never write one
// directory at once (their checkpoints and final model would replace each other's). The lock
// is flock(2) on <dir>/.lock, which holds the holder's pid for the refusal message. flock
// locks belong to the open file and die with the process, so a .lock left by a killed run is
// no obstacle; the file itself is never removed (unlinking it would let a waiting process and
// a new one lock two different files). The directory must exist.
#pragma once

#include <string>

namespace ember {

class RunLock {
 public:
  // Takes the lock at once or throws ember::Error naming the directory and the holder's pid.
  explicit RunLock(const std::string& dir);
  ~RunLock();  // releases it
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace ember
