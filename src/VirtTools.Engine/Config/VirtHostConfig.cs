namespace VirtTools.Config;

/// <summary>A host profile: the USB/IP, PCI passthrough and KSM state a host should be in.</summary>
public sealed class VirtHostConfig
{
    /// <summary>The file the profile was read from; null for a profile built from the live host.</summary>
    public string? Path { get; init; }

    public UsbIpProfile? UsbIp { get; init; }

    public IReadOnlyList<PciPassthroughRule> PciPassthrough { get; init; } = Array.Empty<PciPassthroughRule>();

    public KsmProfile? Ksm { get; init; }

    public string Root { get; init; } = "/";
}

/// <summary>The usbip: section.</summary>
public sealed class UsbIpProfile
{
    public UsbIpServerProfile? Server { get; init; }

    public IReadOnlyList<UsbIpExportRule> Exports { get; init; } = Array.Empty<UsbIpExportRule>();

    public IReadOnlyList<UsbIpAttachmentRule> Attachments { get; init; } = Array.Empty<UsbIpAttachmentRule>();
}

public sealed class UsbIpServerProfile
{
    public IReadOnlyList<string> Address { get; init; } = Array.Empty<string>();

    public int TcpPort { get; init; } = 3240;

    /// <summary>Addresses and CIDRs allowed to import; empty means loopback only.</summary>
    public IReadOnlyList<string> Allow { get; init; } = Array.Empty<string>();
}

/// <summary>How a profile names a USB device: by port path, or by what the device says about itself.</summary>
public sealed class UsbDeviceMatch
{
    public string? BusId { get; init; }

    public string? VendorId { get; init; }

    public string? ProductId { get; init; }

    public string? Serial { get; init; }

    public override string ToString() => BusId is not null
        ? $"busId {BusId}"
        : string.Join(" ", new[] { VendorId is null ? null : $"vendorId {VendorId}", ProductId is null ? null : $"productId {ProductId}", Serial is null ? null : $"serial {Serial}" }.OfType<string>());
}

public sealed class UsbIpExportRule
{
    public required UsbDeviceMatch Match { get; init; }

    /// <summary>Where the rule stands in its file ("host.yaml:4:7"), for messages about it.</summary>
    public string? Location { get; init; }
}

public sealed class UsbIpAttachmentRule
{
    public required string ComputerName { get; init; }

    public int TcpPort { get; init; } = 3240;

    public required UsbDeviceMatch Match { get; init; }

    public bool Reconnect { get; init; }

    public string? Location { get; init; }
}

public sealed class PciPassthroughRule
{
    /// <summary>The full PCI address ("0000:05:00.0").</summary>
    public required string Address { get; init; }

    public string Driver { get; init; } = "vfio-pci";

    public bool IncludeIommuGroup { get; init; }

    public string? Location { get; init; }
}

/// <summary>The ksm: section; unset keys are left as the kernel has them.</summary>
public sealed class KsmProfile
{
    /// <summary>Stop, Run or Unmerge.</summary>
    public string? Run { get; init; }

    public int? PagesToScan { get; init; }

    public int? SleepMilliseconds { get; init; }

    public int? MaxPageSharing { get; init; }

    public bool? MergeAcrossNodes { get; init; }

    public bool? UseZeroPages { get; init; }

    public bool? SmartScan { get; init; }

    public string? AdvisorMode { get; init; }
}
