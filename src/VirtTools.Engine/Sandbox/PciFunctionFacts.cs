namespace VirtTools.Sandbox;

/// <summary>What matching and probing look at.</summary>
internal sealed record PciFunctionFacts(int Vendor, int Device, int ClassCode, int HeaderType, int? Group);
