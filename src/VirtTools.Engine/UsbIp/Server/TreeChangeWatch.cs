using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace VirtTools.UsbIp.Server;

/// <summary>
/// Whether anything was written in some folders of a tree under -Root since they were first watched: an inotify
/// instance, read without waiting. The kernel queues an event while the write that causes it is still in its system
/// call, so a change made before a question is asked is always in the answer: one read(2) says what a listing and a
/// file read per device said before. Only for a tree that processes write (sysfs itself sends no inotify events for
/// what the kernel changes). Once it has seen a change it says so for good, since what it vouched for is outdated;
/// so does a watch that is incomplete (a folder that does not exist, the user's inotify limits reached) or closed.
/// </summary>
internal sealed partial class TreeChangeWatch : IDisposable
{
    private const int NonBlocking = 0x800, CloseOnExec = 0x80000, EAGAIN = 11, EINTR = 4;

    /// <summary>Writes, attribute changes, and names created, deleted or moved in a folder, or the folder itself going.</summary>
    private const uint Changes = 0x2 /* IN_MODIFY */ | 0x4 /* IN_ATTRIB */ | 0x8 /* IN_CLOSE_WRITE */ | 0x40 /* IN_MOVED_FROM */
        | 0x80 /* IN_MOVED_TO */ | 0x100 /* IN_CREATE */ | 0x200 /* IN_DELETE */ | 0x400 /* IN_DELETE_SELF */ | 0x800 /* IN_MOVE_SELF */;

    /// <summary>Reads interrupted by a signal retried per question before it counts as a change.</summary>
    private const int MaxReads = 16;

    private const int BufferBytes = 4096;

    private readonly SafeFileHandle? _handle;
    private readonly object _gate = new();
    private bool _changed;

    private TreeChangeWatch(SafeFileHandle? handle)
    {
        _handle = handle;
        _changed = handle is null;
    }

    /// <summary>A watch of no folder yet; changed from the start where inotify cannot be had.</summary>
    public static TreeChangeWatch Open()
    {
        var fd = InotifyInit(NonBlocking | CloseOnExec);
        return new TreeChangeWatch(fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true));
    }

    /// <summary>Watches a folder (a link to one is followed); one that cannot be watched leaves the watch changed.</summary>
    public void Add(string folder)
    {
        lock (_gate)
            if (!_changed && InotifyAddWatch(Descriptor, folder, Changes) < 0) _changed = true;
    }

    /// <summary>Whether anything was written since the folders were watched (an overflow of the queue counts).</summary>
    public unsafe bool Changed()
    {
        lock (_gate)
        {
            if (_changed) return true;
            var buffer = stackalloc byte[BufferBytes];
            for (var reads = 0; reads < MaxReads; reads++)
            {
                var n = Read(Descriptor, buffer, BufferBytes);
                if (n < 0 && Marshal.GetLastPInvokeError() is var errno)
                {
                    if (errno == EINTR) continue;
                    if (errno == EAGAIN) return false;
                }
                break; // an event (or an error, which says nothing is known): changed
            }
            _changed = true;
            return true;
        }
    }

    private int Descriptor => (int)_handle!.DangerousGetHandle();

    public void Dispose()
    {
        lock (_gate)
        {
            _changed = true;
            _handle?.Dispose();
        }
    }

    [LibraryImport("libc", EntryPoint = "inotify_init1", SetLastError = true)]
    private static partial int InotifyInit(int flags);

    [LibraryImport("libc", EntryPoint = "inotify_add_watch", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int InotifyAddWatch(int fd, string path, uint mask);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint Read(int fd, byte* buffer, nint count);
}
