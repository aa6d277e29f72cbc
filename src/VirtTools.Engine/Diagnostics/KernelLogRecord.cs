namespace VirtTools.Diagnostics;

/// <summary>
/// One /dev/kmsg record: "priority,sequence,microseconds,flags;message", then " KEY=value" lines (SUBSYSTEM=pci,
/// DEVICE=+pci:0000:05:00.0) that dev_printk adds to say which device spoke.
/// </summary>
public sealed record KernelLogRecord(string Message, IReadOnlyList<string> Properties)
{
    /// <summary>The record as dmesg prints it, or null when the text is not in the kmsg format.</summary>
    public static KernelLogRecord? Parse(string text)
    {
        var lines = text.Split('\n');
        int semicolon = lines[0].IndexOf(';');
        if (semicolon <= 0 || !char.IsAsciiDigit(lines[0][0])) return null;
        return new KernelLogRecord(lines[0][(semicolon + 1)..],
            lines.Skip(1).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray());
    }

    /// <summary>The kernel said it about this device: its name is in the text, or DEVICE=+bus:name tags the record.</summary>
    public bool Mentions(string deviceName) =>
        Message.Contains(deviceName, StringComparison.Ordinal)
        || Properties.Any(p => p.StartsWith("DEVICE=+", StringComparison.Ordinal) && p.EndsWith(":" + deviceName, StringComparison.Ordinal));

    public override string ToString() => Message;
}
