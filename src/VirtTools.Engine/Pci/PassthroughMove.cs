using VirtTools.Sysfs;

namespace VirtTools.Pci;

/// <summary>
/// One function changing driver: from <see cref="FromDriver"/> to <see cref="ToDriver"/> (null: whatever host driver
/// the kernel probes), with the writes that do it and what to restore if anything fails.
/// </summary>
public sealed record PassthroughMove(PciAddress Address, string Ids, string? FromDriver, string? ToDriver, string? OriginalOverride,
    IReadOnlyList<AttributeWrite> Writes)
{
    public const string DriversProbe = "/sys/bus/pci/drivers_probe";

    public static string DriverAttribute(string driver, string attribute) => $"{PciDeviceReader.DriversPath}/{driver}/{attribute}";

    private static string DriverOverridePath(PciDevice function) => $"{PciDeviceReader.DevicesPath}/{function.Address}/driver_override";

    /// <summary>"1b36:000d", or "????" for an id sysfs did not show.</summary>
    private static string IdsOf(PciDevice function) => $"{function.VendorId ?? "????"}:{function.DeviceId ?? "????"}";

    /// <summary>
    /// To a stub, the way driverctl and libvirt do it: driver_override (only the stub may bind), unbind from the
    /// current driver, drivers_probe (the kernel binds the override).
    /// </summary>
    internal static PassthroughMove ToStub(PciDevice function, string stub)
    {
        var writes = new List<AttributeWrite> { new(DriverOverridePath(function), stub) };
        if (function.Driver is { } current) writes.Add(new(DriverAttribute(current, "unbind"), function.Address.ToString()));
        writes.Add(new(DriversProbe, function.Address.ToString()));
        return new PassthroughMove(function.Address, IdsOf(function), function.Driver, stub, function.DriverOverride, writes);
    }

    /// <summary>A function already on the stub gets its driver_override set too, so the stub keeps it across a reprobe.</summary>
    internal static PassthroughMove Pin(PciDevice function, string stub) =>
        new(function.Address, IdsOf(function), function.Driver, stub, function.DriverOverride, new[] { new AttributeWrite(DriverOverridePath(function), stub) });

    /// <summary>
    /// Back to a host driver: clear driver_override, unbind from the stub, then bind the remembered driver directly
    /// (a vfio-pci ids= option would win a reprobe) or, when none is known, reprobe. A rollback to "no driver"
    /// (<paramref name="reprobe"/> false) leaves the function unbound, as it was.
    /// </summary>
    internal static PassthroughMove ToHost(PciDevice function, string? hostDriver, string? restoreOverride = null, bool reprobe = true)
    {
        var writes = new List<AttributeWrite> { new(DriverOverridePath(function), restoreOverride ?? "") };
        if (function.Driver is { } current && current != hostDriver) writes.Add(new(DriverAttribute(current, "unbind"), function.Address.ToString()));
        if (hostDriver is not null ? function.Driver != hostDriver : reprobe)
            writes.Add(new(hostDriver is null ? DriversProbe : DriverAttribute(hostDriver, "bind"), function.Address.ToString()));
        return new PassthroughMove(function.Address, IdsOf(function), function.Driver, hostDriver, function.DriverOverride, writes);
    }
}
