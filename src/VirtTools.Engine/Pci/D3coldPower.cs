namespace VirtTools.Pci;

/// <summary>
/// d3cold_allowed: whether the kernel may cut the function's power while it is idle. vfio-pci runtime-suspends a
/// device no VM holds, and some devices (GPUs above all) fail to come back from D3cold: the admin's switches are
/// this file and vfio-pci's disable_idle_d3.
/// </summary>
public static class D3coldPower
{
    public const string Check = "D3cold";

    public static PciReadinessFinding Judge(PciDevice device)
    {
        var path = $"{device.SysfsPath}/d3cold_allowed";
        return device.D3coldAllowed switch
        {
            true => new(Check, PciReadinessResult.Pass, $"{path}: 1",
                "The kernel may power the function off (D3cold) while it is idle, under vfio-pci too; if it then fails to come back, write 0 here or load vfio-pci with disable_idle_d3=1."),
            false => new(Check, PciReadinessResult.Pass, $"{path}: 0",
                "D3cold is off for the function (a kernel quirk or an admin's choice): it stays powered while idle."),
            null => new(Check, PciReadinessResult.Unknown, $"{path}: missing", "Whether the kernel may cut its power while idle could not be read."),
        };
    }
}
