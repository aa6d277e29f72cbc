using System.Runtime.InteropServices;

namespace VirtTools.State;

/// <summary>
/// The few Linux calls .NET does not expose: open(2) with O_NOFOLLOW, the *at(2) calls that keep every step of a
/// write in one opened folder, fsync(2) on a folder, flock(2), ioctl(2) for usbfs and geteuid(2). Flag values differ between architectures
/// (arm64 numbers O_DIRECTORY and O_NOFOLLOW differently from x86-64 and the generic ABI).
/// </summary>
internal static partial class Libc
{
    public const int ORdOnly = 0, OWrOnly = 1, ORdWr = 2, OCreat = 0x40, OExcl = 0x80, OCloexec = 0x80000;
    public const int LockExclusive = 2, LockNonBlocking = 4;
    public const int ONonBlock = 0x800, SeekEnd = 2;
    public const int EINTR = 4, ENOENT = 2, EAGAIN = 11, EPIPE = 32, EACCES = 13, EPERM = 1, EEXIST = 17, ELOOP = 40;

    private static readonly bool Arm = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm;

    public static int ODirectory => Arm ? 0x4000 : 0x10000;

    public static int ONoFollow => Arm ? 0x8000 : 0x20000;

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint EffectiveUserId();

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int OpenAt(int directory, string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "renameat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int RenameAt(int fromDirectory, string from, int toDirectory, string to);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int UnlinkAt(int directory, string path, int flags);

    [LibraryImport("libc", EntryPoint = "readlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static unsafe partial nint ReadLinkAt(int directory, string path, byte* buffer, nint size);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static unsafe partial nint Read(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    public static partial long Seek(int fd, long offset, int whence);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    public static partial int Fchmod(int fd, uint mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);

    /// <summary>ioctl(2) with a pointer to one unsigned int (the usbfs port calls).</summary>
    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request, ref uint argument);

    /// <summary>The errno of the call that just failed, as the exception .NET's own file calls throw for it.</summary>
    public static Exception Failure(string what, string path)
    {
        int errno = Marshal.GetLastPInvokeError();
        var message = $"{what} {path}: {Marshal.GetPInvokeErrorMessage(errno)}";
        return errno switch
        {
            EACCES or EPERM => new UnauthorizedAccessException(message),
            ENOENT => new FileNotFoundException(message, path),
            _ => new IOException(message, errno),
        };
    }

    public static int LastError => Marshal.GetLastPInvokeError();
}
