using VirtTools.Ksm;
using VirtTools.Pci;
using VirtTools.Usb;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Tls;

namespace VirtTools.Config;

/// <summary>A host profile: the USB/IP, PCI passthrough and KSM state a host should be in.</summary>
public sealed class VirtHostConfig
{
    /// <summary>The file the profile was read from; null for a profile built from the live host.</summary>
    public string? Path { get; init; }

    public UsbIpProfile? UsbIp { get; init; }

    public IReadOnlyList<PciPassthroughRule> PciPassthrough { get; init; } = Array.Empty<PciPassthroughRule>();

    /// <summary>The ksm: section, as the settings Set-KsmConfig takes; unset keys are left as the kernel has them.</summary>
    public KsmSettings? Ksm { get; init; }

    public string Root { get; init; } = "/";
}

/// <summary>The usbip: section.</summary>
public sealed class UsbIpProfile
{
    /// <summary>
    /// usbip.deadPeerTimeout: seconds after which a peer that vanished without a word frees what it held, for the
    /// server's exports and the attachments alike; null: the agent's --dead-peer-timeout (default 60).
    /// </summary>
    public int? DeadPeerTimeout { get; init; }

    /// <summary><see cref="DeadPeerTimeout"/> as the policy set on the sockets; null when the profile leaves it out.</summary>
    public UsbIpDeadPeerPolicy? DeadPeer => DeadPeerTimeout is int seconds ? UsbIpDeadPeerPolicy.Within(TimeSpan.FromSeconds(seconds)) : null;

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

    /// <summary>usbip.server.tls: TLS on the port (certificate, key, clientCa, require); null: plain USB/IP only.</summary>
    public UsbIpServerTlsProfile? Tls { get; init; }

    /// <summary>usbip.server.grants: which client identity may list and import which devices (needs tls.clientCa).</summary>
    public IReadOnlyList<UsbIpGrant> Grants { get; init; } = Array.Empty<UsbIpGrant>();

    /// <summary>
    /// Ports reserved for sharing, by the bus id a device plugged there gets ("1-2.3"): the agent holds each claimed so
    /// no host driver takes what is plugged in, and exports it.
    /// </summary>
    public IReadOnlyList<UsbBusId> ClaimPorts { get; init; } = Array.Empty<UsbBusId>();
}

/// <summary>usbip.server.tls as written: file paths, read only when the server starts.</summary>
public sealed record UsbIpServerTlsProfile(string Certificate, string Key, string? ClientCa, bool Require);

/// <summary>How a profile names a USB device: by port path, or by what the device says about itself.</summary>
public sealed class UsbDeviceMatch
{
    public UsbBusId? BusId { get; init; }

    public string? VendorId { get; init; }

    public string? ProductId { get; init; }

    public string? Serial { get; init; }

    /// <summary>
    /// The device is the one this match names: at this bus id, or with these ids and serial (ids compared as the
    /// 4-digit lowercase hex both sides use, the serial exactly).
    /// </summary>
    public bool Matches(UsbDevice device) => BusId is not null
        ? device.BusId == BusId
        : (VendorId is null || VendorId == device.VendorId) && (ProductId is null || ProductId == device.ProductId)
          && (Serial is null || Serial == device.SerialNumber);

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

    public const int MinimumTimeoutSec = 1, MaximumTimeoutSec = 3600;

    /// <summary>
    /// timeoutSec: how long each step of the import may wait for the server (connect, TLS, the device list, the
    /// import), as Connect-UsbIpDevice -TimeoutSec; null: the applier's own (10 s). A slow link or a TCG guest needs more.
    /// </summary>
    public int? TimeoutSec { get; init; }

    /// <summary>tls: import over TLS with these settings (certificate, key, serverCa, serverFingerprint); null: plain USB/IP.</summary>
    public UsbIpTlsClientSettings? Tls { get; init; }

    public required UsbDeviceMatch Match { get; init; }

    public bool Reconnect { get; init; }

    /// <summary>The profile's usbip.deadPeerTimeout, for the socket handed to vhci_hcd; null: the applier's own.</summary>
    public UsbIpDeadPeerPolicy? DeadPeer { get; init; }

    /// <summary>The LXC container the device is given to (Connect-UsbIpDevice -Container); null for the host itself.</summary>
    public string? Container { get; init; }

    /// <summary>
    /// dedicatedController: the container's devices stay on a vhci_hcd controller of its own
    /// (Connect-UsbIpDevice -DedicatedController); only with <see cref="Container"/>.
    /// </summary>
    public bool DedicatedController { get; init; }

    public string? Location { get; init; }
}

public sealed class PciPassthroughRule
{
    /// <summary>The function ("0000:05:00.0"; the profile may leave the domain out).</summary>
    public required PciAddress Address { get; init; }

    public string Driver { get; init; } = "vfio-pci";

    public bool IncludeIommuGroup { get; init; }

    public string? Location { get; init; }
}
