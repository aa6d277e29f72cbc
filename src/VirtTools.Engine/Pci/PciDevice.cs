namespace VirtTools.Pci;

/// <summary>One PCI function as sysfs and its config space show it.</summary>
public sealed class PciDevice
{
    /// <summary>"0000:00:02.0": domain, bus, device, function.</summary>
    public required PciAddress Address { get; init; }

    public string? VendorId { get; init; }
    public string? DeviceId { get; init; }
    public string? SubsystemVendorId { get; init; }
    public string? SubsystemId { get; init; }

    /// <summary>
    /// Base class, subclass and programming interface as sysfs prints them ("0x020000"). -Class matches by
    /// prefix: "0x02" all network controllers, "0x0200" Ethernet, "0x0c0330" xHCI only.
    /// </summary>
    public string? ClassCode { get; init; }

    public string? ClassName { get; init; }
    public string? VendorName { get; init; }
    public string? DeviceName { get; init; }
    public string? SubsystemName { get; init; }

    /// <summary>The pci.ids file the names came from (the root's, else this system's); null when there was none.</summary>
    public string? NameSource { get; init; }

    // Id, Name and Msi are what lspci prints for a function. They are properties, not script blocks in the table view,
    // so they survive remoting as plain strings and the first table of a session compiles no script.

    /// <summary>"8086:100e", vendor and device id as lspci -n prints them.</summary>
    public string Id => $"{VendorId}:{DeviceId}";

    /// <summary>Vendor and device name from the ids database, else the class name, else empty.</summary>
    public string Name => DeviceName is not null ? $"{VendorName} {DeviceName}".Trim() : ClassName ?? "";

    /// <summary>Revision as two hex digits ("03").</summary>
    public string? Revision { get; init; }

    /// <summary>The bound driver; null when no driver is bound.</summary>
    public string? Driver { get; init; }

    /// <summary>The only driver allowed to bind; null when the kernel prints "(null)" or lacks the attribute.</summary>
    public string? DriverOverride { get; init; }

    /// <summary>
    /// The legacy INTx IRQ as Linux routes it (sysfs irq). Null when the function has no INTx IRQ (0), and while
    /// MSI (not MSI-X) is on, because then sysfs irq holds the first MSI vector and the INTx line is hidden.
    /// For a function no driver has enabled yet, this is still the firmware's value (see IsEnabled).
    /// </summary>
    public int? Irq { get; init; }

    /// <summary>The raw sysfs irq: the INTx IRQ, or the first MSI vector while MSI is on.</summary>
    public int? SysfsIrq { get; init; }

    /// <summary>Config space 0x3C as the firmware wrote it; with an IO-APIC it differs from the routed Irq.</summary>
    public int? InterruptLine { get; init; }

    /// <summary>Config space 0x3D: None or INTA–INTD; null when config space is unreadable.</summary>
    public PciInterruptPin? InterruptPin { get; init; }

    /// <summary>How many MSI/MSI-X vectors are allocated (files in msi_irqs); 0 when none are.</summary>
    public int MsiVectors { get; init; }

    public PciMsiKind MsiKind { get; init; }

    /// <summary>"3 MsiX": vectors and kind; null when no vectors are allocated.</summary>
    public string? Msi => MsiVectors > 0 ? $"{MsiVectors} {MsiKind}" : null;

    /// <summary>The IOMMU group number; null when the IOMMU is off or the function is not in a group.</summary>
    public int? IommuGroup { get; init; }

    /// <summary>The NUMA node; null when the kernel reports none (-1) or has no numa_node attribute.</summary>
    public int? NumaNode { get; init; }

    /// <summary>reset_method in the kernel's order ("flr", "bus"); null on kernels before 5.15; empty when reset is disabled.</summary>
    public string[]? ResetMethods { get; init; }

    /// <summary>
    /// Function Level Reset: PCIe DevCap bit 28, or the Advanced Features capability (TP and FLR) of conventional PCI;
    /// null when config space does not show it (64 bytes without root).
    /// </summary>
    public bool? FunctionLevelReset { get; init; }

    /// <summary>
    /// A PCI Power Management reset (D3hot and back) works: the PM capability is there without No_Soft_Reset. Null when
    /// config space does not show it.
    /// </summary>
    public bool? PowerManagementReset { get; init; }

    /// <summary>d3cold_allowed: the kernel may cut the function's power while idle; null when the attribute is missing.</summary>
    public bool? D3coldAllowed { get; init; }

    /// <summary>boot_vga: the firmware's console device. Null when the attribute is absent (only VGA-class functions have it).</summary>
    public bool? BootVga { get; init; }

    /// <summary>A PCI-to-PCI or CardBus bridge (header type 1 or 2). Host and ISA bridges are ordinary functions.</summary>
    public bool IsBridge { get; init; }

    /// <summary>0 endpoint, 1 PCI bridge, 2 CardBus bridge; null when config space is unreadable.</summary>
    public int? HeaderType { get; init; }

    /// <summary>Bound to vfio-pci or a vfio variant driver (vfio-dev/ exists on 6.1+, or the driver's name says so).</summary>
    public bool IsVfioBound { get; init; }

    /// <summary>The kernel's enable count is above 0: a driver (or a VM through vfio) has enabled the function.</summary>
    public bool? IsEnabled { get; init; }

    public bool? IsPciExpress { get; init; }

    /// <summary>Command bit 10 (DisINTx): INTx is masked at the function now.</summary>
    public bool? IntxDisabled { get; init; }

    /// <summary>Status bit 3: the function is asserting INTx now.</summary>
    public bool? IntxAsserted { get; init; }

    /// <summary>
    /// Whether the function can mask its own INTx (so vfio-pci may share the line): true for PCI Express or live
    /// PCI 2.3 bits, false for kernel quirks, null when a read-only look cannot tell (the kernel toggles the bit).
    /// </summary>
    public bool? SupportsIntxMasking { get; init; }

    /// <summary>Why SupportsIntxMasking has its value.</summary>
    public string? IntxMaskingEvidence { get; init; }

    /// <summary>The device directory as a system path ("/sys/devices/pci0000:00/0000:00:02.0").</summary>
    public string? SysfsPath { get; init; }

    /// <summary>The root this was read under ("/" on the live machine).</summary>
    public required string Root { get; init; }

    public override string ToString() => Address.ToString();
}
