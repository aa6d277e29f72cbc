namespace VirtTools.Sysfs;

/// <summary>
/// The ErrorIds of the root and of kernel attribute writes, shared by every area that writes to sysfs (documented in
/// about_VirtTools_Errors).
/// </summary>
public static class SysfsErrors
{
    public const string RootNotFoundId = "RootNotFound";
    public const string PathOutsideRootId = "PathOutsideRoot";
    public const string PermissionDeniedId = "PermissionDenied";
    public const string AttributeNotFoundId = "KernelAttributeNotFound";
    public const string AttributeBusyId = "KernelAttributeBusy";
    public const string ValueRejectedId = "KernelValueRejected";
    public const string WriteFailedId = "KernelWriteFailed";
}
