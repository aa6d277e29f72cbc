using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace VirtTools.State;

/// <summary>
/// The lock a record file's read-modify-write holds: flock(2) on "&lt;file&gt;.lock" beside it, so the agent and every
/// shell take turns and none loses another's records. The lock file is never deleted (deleting a lock file lets two
/// holders lock two different files). Mode 0600: a user who could open it could hold it and stall root's writes.
/// </summary>
internal static class RecordLock
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(10);

    /// <summary>Waits at most <paramref name="timeout"/> for the lock; disposing the result releases it.</summary>
    public static IDisposable Acquire(StateFolder folder, string fileName, TimeSpan timeout)
    {
        var handle = folder.OpenOrCreate(fileName + ".lock", AtomicFile.OwnerOnly);
        try
        {
            int fd = (int)handle.DangerousGetHandle();
            var clock = Stopwatch.StartNew();
            while (Libc.Flock(fd, Libc.LockExclusive | Libc.LockNonBlocking) != 0)
            {
                int errno = Libc.LastError;
                if (errno != Libc.EAGAIN && errno != Libc.EINTR) throw Libc.Failure("Cannot lock", folder.Combine(fileName + ".lock"));
                if (clock.Elapsed >= timeout) throw StateErrors.LockTimeout(folder.Combine(fileName), timeout);
                Thread.Sleep(Poll);
            }
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }
}
