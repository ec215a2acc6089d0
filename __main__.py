"""factory-floor: one stack is one factory. Read the factory's config, build its platform, export."""

import pulumi

from components.config.problems import FactoryConfigError
from components.config.stack_inputs import read_stack_inputs
from components.platform import FactoryArgs, FactoryPlatform

try:
    inputs = read_stack_inputs()
except FactoryConfigError as error:
    # RunError ends the program cleanly: the user sees every config problem and no Python traceback
    raise pulumi.RunError(str(error)) from None

platform = FactoryPlatform(inputs.config.factory.name, FactoryArgs.of(inputs))

pulumi.export("factory", inputs.config.factory.name)
pulumi.export("clusters", [cluster.name for cluster in inputs.config.clusters])
pulumi.export("lines", platform.line_summary())
