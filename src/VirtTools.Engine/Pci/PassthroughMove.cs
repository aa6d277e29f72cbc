using VirtTools.Sysfs;

namespace VirtTools.Pci;

/// <summary>
/// One function changing driver: from <see cref="FromDriver"/> to <see cref="ToDriver"/> (null: whatever host driver
/// the kernel probes), with the writes that do it and what to restore if anything fails.
/// </summary>
public sealed record PassthroughMove(string Address, string Ids, string? FromDriver, string? ToDriver, string? OriginalOverride,
    IReadOnlyList<AttributeWrite> Writes)
{
    public const string DriversProbe = "/sys/bus/pci/drivers_probe";

    public static string DriverAttribute(string driver, string attribute) => $"/sys/bus/pci/drivers/{driver}/{attribute}";

    /// <summary>
    /// To a stub, the way driverctl and libvirt do it: driver_override (only the stub may bind), unbind from the
    /// current driver, drivers_probe (the kernel binds the override).
    /// </summary>
    internal static PassthroughMove ToStub(PassthroughFunction function, string stub)
    {
        var writes = new List<AttributeWrite> { new(function.DriverOverridePath, stub) };
        if (function.Driver is { } current) writes.Add(new(DriverAttribute(current, "unbind"), function.Address));
        writes.Add(new(DriversProbe, function.Address));
        return new PassthroughMove(function.Address, function.Ids, function.Driver, stub, function.DriverOverride, writes);
    }

    /// <summary>A function already on the stub gets its driver_override set too, so the stub keeps it across a reprobe.</summary>
    internal static PassthroughMove Pin(PassthroughFunction function, string stub) =>
        new(function.Address, function.Ids, function.Driver, stub, function.DriverOverride, new[] { new AttributeWrite(function.DriverOverridePath, stub) });

    /// <summary>
    /// Back to a host driver: clear driver_override, unbind from the stub, then bind the remembered driver directly
    /// (a vfio-pci ids= option would win a reprobe) or, when none is known, reprobe. A rollback to "no driver"
    /// (<paramref name="reprobe"/> false) leaves the function unbound, as it was.
    /// </summary>
    internal static PassthroughMove ToHost(PassthroughFunction function, string? hostDriver, string? restoreOverride = null, bool reprobe = true)
    {
        var writes = new List<AttributeWrite> { new(function.DriverOverridePath, restoreOverride ?? "") };
        if (function.Driver is { } current && current != hostDriver) writes.Add(new(DriverAttribute(current, "unbind"), function.Address));
        if (hostDriver is not null ? function.Driver != hostDriver : reprobe)
            writes.Add(hostDriver is null ? new(DriversProbe, function.Address) : new(DriverAttribute(hostDriver, "bind"), function.Address));
        return new PassthroughMove(function.Address, function.Ids, function.Driver, hostDriver, function.DriverOverride, writes);
    }
}
