using Microsoft.Win32.SafeHandles;

namespace VirtTools.State;

/// <summary>
/// The folder a state file lives in, opened once: every later step (create the temporary file, check the target,
/// rename, lock, fsync) is relative to this descriptor, so swapping the folder's path for a symlink halfway through
/// cannot send a step elsewhere. The folder path itself is followed as the kernel follows it: on the live root its
/// parents are root's own, and under -Root the caller resolved it inside the root first
/// (<see cref="Sysfs.SystemRoot.ResolveForWrite"/>).
/// </summary>
internal sealed class StateFolder : IDisposable
{
    /// <summary>Folders VirtTools creates (/var/lib/virttools, /run/virttools): root's, readable by all, like /var/lib.</summary>
    private const UnixFileMode FolderMode = (UnixFileMode)0b111_101_101;

    private readonly SafeFileHandle _handle;

    private StateFolder(string path, SafeFileHandle handle)
    {
        Path = path;
        _handle = handle;
    }

    public string Path { get; }

    private int Fd => (int)_handle.DangerousGetHandle();

    /// <summary>
    /// A short path to <paramref name="name"/> in this folder, through /proc/self/fd: a Unix socket's address holds at
    /// most 108 bytes, which a folder deep under -Root exceeds; the kernel resolves this one through the open folder.
    /// </summary>
    public string ShortPath(string name) => $"/proc/self/fd/{Fd}/{name}";

    /// <summary>Opens <paramref name="path"/>, creating it (and its missing parents) with mode 0755 when it is not there.</summary>
    public static StateFolder Open(string path)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("VirtTools' state files exist on Linux only.");
        if (!Directory.Exists(path)) Directory.CreateDirectory(path, FolderMode);
        int fd = Libc.Open(path, Libc.ORdOnly | Libc.ODirectory | Libc.OCloexec, 0);
        if (fd < 0) throw Libc.Failure("Cannot open the folder", path);
        return new StateFolder(path, new SafeFileHandle(fd, ownsHandle: true));
    }

    /// <summary>True when <paramref name="name"/> in this folder is a symlink (readlinkat succeeds only on one).</summary>
    public unsafe bool IsSymlink(string name)
    {
        byte probe;
        return Libc.ReadLinkAt(Fd, name, &probe, 1) >= 0;
    }

    /// <summary>
    /// Creates <paramref name="name"/>: O_CREAT|O_EXCL|O_NOFOLLOW, so an existing file or a planted symlink fails
    /// instead of being opened; then fchmod, because the mode given to open(2) is cut down by the umask.
    /// </summary>
    public SafeFileHandle CreateNew(string name, UnixFileMode mode) =>
        OpenFile(name, Libc.OWrOnly | Libc.OCreat | Libc.OExcl, mode);

    /// <summary>Opens <paramref name="name"/> for reading and writing, creating it when missing; never through a symlink.</summary>
    public SafeFileHandle OpenOrCreate(string name, UnixFileMode mode) => OpenFile(name, Libc.ORdWr | Libc.OCreat, mode);

    private SafeFileHandle OpenFile(string name, int flags, UnixFileMode mode)
    {
        int fd = Libc.OpenAt(Fd, name, flags | Libc.ONoFollow | Libc.OCloexec, (uint)mode);
        if (fd < 0 && Libc.LastError == Libc.ELOOP) throw StateErrors.FileIsSymlink(Combine(name));
        if (fd < 0) throw Libc.Failure("Cannot create", Combine(name));
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (Libc.Fchmod(fd, (uint)mode) != 0)
        {
            var failure = Libc.Failure("Cannot set the mode of", Combine(name));
            handle.Dispose();
            throw failure;
        }
        return handle;
    }

    /// <summary>rename(2) within the folder: atomic, and a symlink at <paramref name="to"/> is replaced, never followed.</summary>
    public void Rename(string from, string to)
    {
        if (Libc.RenameAt(Fd, from, Fd, to) != 0) throw Libc.Failure("Cannot rename onto", Combine(to));
    }

    /// <summary>Removes the name (a symlink itself, never its target); a name already gone is no error.</summary>
    public void Unlink(string name)
    {
        if (Libc.UnlinkAt(Fd, name, 0) != 0 && Libc.LastError != Libc.ENOENT) throw Libc.Failure("Cannot delete", Combine(name));
    }

    /// <summary>fsync(2) on the folder, so a rename or unlink survives a crash as surely as the file's data.</summary>
    public void Sync()
    {
        if (Libc.Fsync(Fd) != 0) throw Libc.Failure("Cannot sync the folder", Path);
    }

    public string Combine(string name) => Path.TrimEnd('/') + "/" + name;

    public void Dispose() => _handle.Dispose();
}
