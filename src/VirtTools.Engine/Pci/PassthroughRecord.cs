using VirtTools.State;

namespace VirtTools.Pci;

/// <summary>One function VirtTools handed to a stub driver: where it came from, so it can go back from any shell.</summary>
public sealed record PassthroughRecord
{
    public required string Address { get; init; }

    /// <summary>The stub it was handed to ("vfio-pci", "pci-stub").</summary>
    public required string Driver { get; init; }

    /// <summary>The driver it had before; null when it was unbound.</summary>
    public string? OriginalDriver { get; init; }

    public string? VendorId { get; init; }

    public string? DeviceId { get; init; }

    /// <summary>True when -Persist wrote a modprobe.d line for it.</summary>
    public bool Persisted { get; init; }

    /// <summary>The stub driver a user named, when it is a driver name (it becomes a sysfs path and a file name).</summary>
    public static string RequireDriverName(string driver) =>
        RecordField.DriverName("driver", driver) is null ? driver : throw PciErrors.DriverNameInvalid(driver);

    /// <summary>What is wrong with a field, or null: every field ends up in a sysfs path or a modprobe.d line.</summary>
    public string? Problem() =>
        RecordField.PciAddress("address", Address) ?? RecordField.DriverName("driver", Driver)
        ?? (OriginalDriver is null ? null : RecordField.DriverName("originalDriver", OriginalDriver))
        ?? (VendorId is null ? null : RecordField.HexId("vendorId", VendorId))
        ?? (DeviceId is null ? null : RecordField.HexId("deviceId", DeviceId));
}
