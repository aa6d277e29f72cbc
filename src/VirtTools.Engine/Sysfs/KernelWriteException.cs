using VirtTools.Diagnostics;

namespace VirtTools.Sysfs;

/// <summary>
/// The kernel refused a write to one of its attributes. Carries the errno so callers can turn the generic
/// failure into one that speaks their area's language (EBUSY on max_page_sharing means "unmerge first").
/// </summary>
public sealed class KernelWriteException : VirtToolsException
{
    public KernelWriteException(string errorId, FailureKind kind, string message, string? recommendedAction,
        string systemPath, string value, KernelErrno errno, Exception cause)
        : base(errorId, kind, message, recommendedAction, systemPath, cause)
    {
        SystemPath = systemPath;
        Value = value;
        Errno = errno;
    }

    /// <summary>The attribute as the system names it ("/sys/kernel/mm/ksm/run").</summary>
    public string SystemPath { get; }

    /// <summary>What was written, without the trailing newline.</summary>
    public string Value { get; }

    public KernelErrno Errno { get; }
}
