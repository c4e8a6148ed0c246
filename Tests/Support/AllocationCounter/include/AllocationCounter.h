// Counts heap allocations made by the calling thread while counting is on. Linked into the test
// executable, its malloc family interposes glibc's for the whole process; other threads (and
// this one when counting is off) pass straight through.
#ifndef ALLOCATION_COUNTER_H
#define ALLOCATION_COUNTER_H

/// 1 when counting works; 0 in sanitizer builds, whose own allocator must not be bypassed.
int allocation_counter_available(void);
/// Starts counting this thread's allocations from zero.
void allocation_counter_start(void);
/// Stops counting and returns how many allocations this thread made since the start.
long allocation_counter_stop(void);

#endif
