using System.Runtime.InteropServices;

namespace VirtTools.UsbIp;

/// <summary>
/// Takes a socket out of every epoll set of this process before the kernel or a blocking relay takes it over. .NET's
/// socket engine keeps each socket it did asynchronous I/O on in its epoll set, and closing our descriptor does not
/// take it out: an epoll entry lives as long as the open file, and usbip-host or vhci_hcd keeps its own reference to
/// it. Left in, every packet the kernel then receives on the connection wakes .NET's epoll thread, which hands the
/// event to a pool thread that finds nothing to do (in the TCG lab a plain import's whole-stick read cost its process
/// ~2 CPU s that way, for the life of the import).
/// </summary>
internal static partial class ProcessEpollSets
{
    private const int EpollDelete = 2; // EPOLL_CTL_DEL

    /// <summary>
    /// Deletes <paramref name="fd"/> from each epoll instance this process has open; one that does not watch it is left
    /// alone (ENOENT). Nothing in the process may wait on the socket asynchronously afterwards.
    /// </summary>
    public static void Remove(int fd)
    {
        IEnumerable<string> descriptors;
        try { descriptors = Directory.EnumerateFiles("/proc/self/fd"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; } // no /proc: the sets keep it, which only costs wake-ups
        foreach (var descriptor in descriptors)
        {
            string? target;
            try { target = new FileInfo(descriptor).LinkTarget; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; } // closed meanwhile
            if (target == "anon_inode:[eventpoll]"
                && int.TryParse(Path.GetFileName(descriptor), out var epoll))
                _ = EpollCtl(epoll, EpollDelete, fd, IntPtr.Zero);
        }
    }

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static partial int EpollCtl(int epoll, int operation, int fd, IntPtr events);
}
