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
}
