using VirtTools.Diagnostics;

namespace VirtTools.Sysfs;

/// <summary>
/// Writes one value to a kernel attribute the way `echo value &gt; file` does (O_TRUNC, one write(2) of
/// "value\n") through the root's <see cref="IKernelWriter"/>, and turns a refusal into a
/// <see cref="KernelWriteException"/> that names the errno.
/// On a captured or synthetic root the attributes are regular files, so a write there just replaces the file, and one
/// whose symlinks lead outside the root is refused (<see cref="RootConfinement.PathOutsideRootId"/>).
/// </summary>
/// <remarks>
/// How .NET reports the errno on Linux: EACCES, EPERM (and EBADF) become UnauthorizedAccessException, ENOENT
/// becomes FileNotFoundException or DirectoryNotFoundException, and every other errno is a plain IOException
/// whose HResult is the raw errno (EBUSY = 16, EINVAL = 22), checked against /sys/kernel/mm/ksm on 6.18.
/// </remarks>
public static class SysfsWriter
{
    public static void Write(SystemRoot root, string systemPath, string value) =>
        WriteExact(root, systemPath, value.EndsWith('\n') ? value : value + "\n");

    /// <summary>Writes <paramref name="text"/> as it is, without adding a newline (as `echo -n` does).</summary>
    public static void WriteExact(SystemRoot root, string systemPath, string text)
    {
        try
        {
            root.Writer.Write(systemPath, text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Classify(systemPath, text.TrimEnd('\n'), e);
        }
    }

    /// <summary>The errno behind an exception from a write, as far as .NET kept it.</summary>
    public static KernelErrno ErrnoOf(Exception e) => e switch
    {
        UnauthorizedAccessException => KernelErrno.EACCES,
        FileNotFoundException or DirectoryNotFoundException => KernelErrno.ENOENT,
        IOException io when io.HResult is > 0 and < 4096 => (KernelErrno)io.HResult,
        _ => KernelErrno.Unknown,
    };

    private static KernelWriteException Classify(string systemPath, string value, Exception e)
    {
        var errno = ErrnoOf(e);
        var what = $"Writing '{value}' to {systemPath} failed";
        return errno switch
        {
            KernelErrno.EACCES or KernelErrno.EPERM => new KernelWriteException(SysfsErrors.PermissionDeniedId, FailureKind.PermissionDenied,
                $"{what}: permission denied.",
                Environment.IsPrivilegedProcess ? $"{systemPath} is read-only on this kernel." : "Run as root (sudo).",
                systemPath, value, errno, e),
            KernelErrno.ENOENT => new KernelWriteException(SysfsErrors.AttributeNotFoundId, FailureKind.NotFound,
                $"{what}: this kernel has no such attribute.", "Check the kernel version and that the module providing it is loaded.",
                systemPath, value, errno, e),
            KernelErrno.EBUSY => new KernelWriteException(SysfsErrors.AttributeBusyId, FailureKind.ResourceBusy,
                $"{what}: the kernel says the resource is busy (EBUSY).", "Release what holds it and try again.",
                systemPath, value, errno, e),
            KernelErrno.EINVAL or KernelErrno.ERANGE => new KernelWriteException(SysfsErrors.ValueRejectedId, FailureKind.InvalidArgument,
                $"{what}: the kernel rejected the value ({errno}).", "Check the value against the kernel documentation for this attribute.",
                systemPath, value, errno, e),
            _ => new KernelWriteException(SysfsErrors.WriteFailedId, FailureKind.OperationFailed,
                $"{what}: {e.Message} ({errno}).", "See the kernel log (dmesg) for why the write was refused.",
                systemPath, value, errno, e),
        };
    }
}
