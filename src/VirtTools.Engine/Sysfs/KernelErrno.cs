namespace VirtTools.Sysfs;

/// <summary>
/// The errno values a kernel attribute write can fail with (Linux x86/arm numbering), as far as the
/// engine tells them apart. <see cref="Unknown"/> when .NET did not surface a number.
/// </summary>
public enum KernelErrno
{
    Unknown = 0,
    EPERM = 1,
    ENOENT = 2,
    EIO = 5,
    ENXIO = 6,
    EAGAIN = 11,
    ENOMEM = 12,
    EACCES = 13,
    EBUSY = 16,
    EEXIST = 17,
    ENODEV = 19,
    EINVAL = 22,
    ENOTTY = 25,
    ENOSPC = 28,
    EROFS = 30,
    ERANGE = 34,
    EOPNOTSUPP = 95,
}
