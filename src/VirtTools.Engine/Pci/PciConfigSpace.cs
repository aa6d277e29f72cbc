namespace VirtTools.Pci;

/// <summary>
/// The bytes of a function's sysfs "config" file, read tolerantly. Without root the kernel returns only the first
/// 64 bytes (enough for the header fields used here); a short, missing or garbage file gives null fields.
/// </summary>
public sealed class PciConfigSpace
{
    private const int CommandOffset = 0x04, StatusOffset = 0x06, HeaderTypeOffset = 0x0E;
    private const int CapabilitiesPointerOffset = 0x34, InterruptLineOffset = 0x3C, InterruptPinOffset = 0x3D;
    private const int CommandIntxDisable = 1 << 10, StatusInterrupt = 1 << 3, StatusCapabilitiesList = 1 << 4;
    private const int ExpressCapabilityId = 0x10, ExpressDeviceCapabilities = 0x04, DeviceCapabilitiesFlr = 1 << 28;
    private const int ExtendedCapabilitiesStart = 0x100;
    private const int PowerManagementCapabilityId = 0x01, PowerManagementControl = 0x04, NoSoftReset = 1 << 3;
    private const int AdvancedFeaturesCapabilityId = 0x13, AdvancedFeaturesTpFlr = 0x03;
    /// <summary>Conventional PCI has 256 bytes of config space; PCI Express functions have 4096.</summary>
    public const int ConventionalSize = 256;
    private const int ExtendedSize = 4096;

    private readonly byte[] _bytes;

    private PciConfigSpace(byte[] bytes, long fileLength)
    {
        _bytes = bytes;
        FileLength = fileLength;
    }

    /// <summary>The size the kernel gives the file: 256 for conventional PCI, 4096 for PCI Express.</summary>
    public long FileLength { get; }

    /// <summary>How many bytes could actually be read (64 without root).</summary>
    public int ReadableLength => _bytes.Length;

    /// <summary>
    /// Reads the header and the capability list (the first 256 bytes), all that a listing of functions uses; null when
    /// the file is missing or unreadable. Not the whole 4 KiB of a PCI Express function: the kernel reads config space
    /// one locked dword at a time (a trap to the hypervisor for each on a VM), so the extended space is most of the
    /// cost of reading a function.
    /// </summary>
    public static PciConfigSpace? Read(string path) => Read(path, ConventionalSize);

    /// <summary>Reads the whole file, the extended capabilities (0x100 and up) included; null when missing or unreadable.</summary>
    public static PciConfigSpace? ReadWithExtendedCapabilities(string path) => Read(path, ExtendedSize);

    private static PciConfigSpace? Read(string path, int length)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
            var buffer = new byte[length];
            int total = 0, n;
            while (total < buffer.Length && (n = stream.Read(buffer, total, buffer.Length - total)) > 0) total += n;
            return new PciConfigSpace(buffer[..total], new FileInfo(path).Length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return null;
        }
    }

    public static PciConfigSpace FromBytes(byte[] bytes, long? fileLength = null) => new(bytes.ToArray(), fileLength ?? bytes.Length);

    public int? Byte(int offset) => offset >= 0 && offset < _bytes.Length ? _bytes[offset] : null;

    public int? Word(int offset) => Byte(offset) is int low && Byte(offset + 1) is int high ? low | (high << 8) : null;

    /// <summary>0 for an endpoint, 1 for a PCI-to-PCI bridge, 2 for a CardBus bridge (the multi-function bit removed).</summary>
    public int? HeaderType => Byte(HeaderTypeOffset) & 0x7f;

    /// <summary>The line the firmware wrote at 0x3C. With an IO-APIC it is NOT the IRQ Linux routes (see PciDevice.Irq).</summary>
    public int? InterruptLine => Byte(InterruptLineOffset) is int line and not 0xff ? line : null;

    /// <summary>The pin at 0x3D: 0 none, 1–4 INTA–INTD; null when unreadable or out of range.</summary>
    public PciInterruptPin? InterruptPin => Byte(InterruptPinOffset) is int pin and <= 4 ? (PciInterruptPin)pin : null;

    /// <summary>Command bit 10, INTx Disable (lspci "DisINTx+").</summary>
    public bool? IntxDisabled => Word(CommandOffset) is int command ? (command & CommandIntxDisable) != 0 : null;

    /// <summary>Status bit 3, Interrupt Status (lspci "INTx+"): the function is asserting INTx now.</summary>
    public bool? InterruptStatus => Word(StatusOffset) is int status ? (status & StatusInterrupt) != 0 : null;

    /// <summary>
    /// True with a PCI Express capability or a 4096-byte config file, false when a fully readable conventional
    /// header lists no such capability, null when the evidence could not be read.
    /// </summary>
    public bool? IsPciExpress
    {
        get
        {
            if (FileLength > ConventionalSize) return true;
            return HasCapability(ExpressCapabilityId);
        }
    }

    /// <summary>
    /// Function Level Reset as the kernel finds it: PCIe Device Capabilities bit 28 (lspci "FLReset+"), or on conventional
    /// PCI the Advanced Features capability with Transactions Pending and FLR (lspci "AFFLR+"); null when unreadable.
    /// </summary>
    public bool? FunctionLevelReset => FindCapability(ExpressCapabilityId) switch
    {
        null => null,
        < 0 => AdvancedFeaturesFlr,
        int express => Dword(express + ExpressDeviceCapabilities) is uint capabilities ? (capabilities & DeviceCapabilitiesFlr) != 0 : null,
    };

    private bool? AdvancedFeaturesFlr => FindCapability(AdvancedFeaturesCapabilityId) switch
    {
        null => null,
        < 0 => false,
        int af => Byte(af + 3) is int caps ? (caps & AdvancedFeaturesTpFlr) == AdvancedFeaturesTpFlr : null,
    };

    /// <summary>
    /// The PCI Power Management capability without No_Soft_Reset (PMCSR bit 3), so a D3hot-D0 cycle resets the function
    /// (the kernel's "pm" reset); false without the capability or with the bit set, null when unreadable.
    /// </summary>
    public bool? PowerManagementReset => FindCapability(PowerManagementCapabilityId) switch
    {
        null => null,
        < 0 => false,
        int pm => Word(pm + PowerManagementControl) is int control ? (control & NoSoftReset) == 0 : null,
    };

    public uint? Dword(int offset) =>
        Word(offset) is int low && Word(offset + 2) is int high ? (uint)low | ((uint)high << 16) : null;

    /// <summary>
    /// Where an extended capability (PCIe, 0x100 and up) starts; -1 when the function has none of that id, null when
    /// the bytes were not readable (64 bytes without CAP_SYS_ADMIN: an absent capability is not a missing one).
    /// </summary>
    public int? FindExtendedCapability(int id)
    {
        if (IsPciExpress == false) return -1;
        // A PCI Express function whose extended space could not be read (64 bytes without root, a short capture).
        if (ReadableLength <= ExtendedCapabilitiesStart) return null;
        int offset = ExtendedCapabilitiesStart;
        // 960 headers of 4 bytes fill the extended space: more means a loop in garbage data.
        for (int hops = 0; hops < 960 && offset >= ExtendedCapabilitiesStart; hops++)
        {
            if (Dword(offset) is not uint header) return null;
            if (header is 0 or 0xffffffff) return -1;
            if ((header & 0xffff) == id) return offset;
            offset = (int)(header >> 20) & 0xffc;
        }
        return -1;
    }

    private bool? HasCapability(int id) => FindCapability(id) is int offset ? offset >= 0 : null;

    /// <summary>Walks the capability list: the capability's offset, -1 when absent, null when the list runs into bytes that could not be read.</summary>
    private int? FindCapability(int id)
    {
        if (Word(StatusOffset) is not int status) return null;
        if ((status & StatusCapabilitiesList) == 0) return -1;
        var pointer = Byte(CapabilitiesPointerOffset) & 0xfc;
        // 48 capabilities fill the 192 bytes after the header: more means a loop in garbage data.
        for (int hops = 0; hops < 48 && pointer is >= 0x40; hops++)
        {
            if (Byte(pointer.Value) is not int capability || Byte(pointer.Value + 1) is not int next) return null;
            if (capability == id) return pointer.Value;
            pointer = next & 0xfc;
        }
        return pointer is null ? null : -1;
    }
}
