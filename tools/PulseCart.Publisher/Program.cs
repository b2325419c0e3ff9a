using PulseCart.Publisher;

return await PublisherCommand.RunAsync(args, Console.Out, Console.Error);
